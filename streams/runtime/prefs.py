"""``forewarn prefs``: operators steer the actuators through the compacted preferences topic.

Each record is keyed by its selector (an exact component id or an fnmatch glob) and the latest
one wins, so ``set`` reads the selector's current preference and changes only the fields given;
``clear`` writes a tombstone (the selector's preference is withdrawn); ``list`` prints what is
in force. Actuators read the whole topic from the start and follow changes as they come.

    forewarn prefs set 'db-*' --criticality 9 --max MEMORY_HIGH=8192
    forewarn prefs set web-3/app --pause          # hands off, expiry included
    forewarn prefs set web-3/app --resume
    forewarn prefs clear 'db-*'
    forewarn prefs list
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

from actuators.pool import RESOURCES
from schemas.codec import Codec
from schemas.errors import ConfigError, ContractError
from streams.runtime.retry import retrying

DEFAULT_CRITICALITY = 5


def make_preference(selector: str, ts: int, current: Mapping[str, Any] | None = None, *,
                    criticality: int | None = None, allow: Sequence[str] | None = None,
                    maxima: Mapping[str, float] | None = None,
                    paused: bool | None = None) -> dict[str, Any]:
    """A Preference record: ``current`` (or the defaults) with the given fields changed."""
    if not selector.strip():
        raise ConfigError("a preference needs a selector (a component id or a glob)")
    base = dict(current) if current else {
        "selector": selector, "criticality": DEFAULT_CRITICALITY, "allowed_resources": None,
        "maxima": {}, "paused": False}
    if criticality is not None:
        if not 0 <= criticality <= 10:
            raise ConfigError(f"criticality {criticality} is outside 0..10")
        base["criticality"] = criticality
    if allow is not None:
        base["allowed_resources"] = _resources(allow) or None
    if maxima is not None:
        _resources(maxima)
        if any(v < 0 for v in maxima.values()):
            raise ConfigError(f"maxima must be >= 0: {dict(maxima)}")
        base["maxima"] = {**base["maxima"], **{k: float(v) for k, v in maxima.items()}}
    if paused is not None:
        base["paused"] = paused
    base.update(selector=selector, ts=int(ts))
    return base


def _resources(names: Sequence[str] | Mapping[str, Any]) -> list[str]:
    unknown = sorted(set(names) - set(RESOURCES))
    if unknown:
        raise ConfigError(f"unknown resources {unknown}; known: {', '.join(RESOURCES)}")
    return list(names)


def parse_maxima(pairs: Sequence[str]) -> dict[str, float]:
    """``["MEMORY_HIGH=8192"]`` → ``{"MEMORY_HIGH": 8192.0}``."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ConfigError(f"--max {pair!r}: expected RESOURCE=AMOUNT")
    return out


def read_preferences(settings: Any, codec: Codec, timeout_s: float = 10.0) -> dict[str, Any]:
    """The preferences in force: the topic read whole, latest per selector, tombstones drop."""
    from confluent_kafka import Consumer, TopicPartition

    from streams.topics import consumer_config

    topic = settings.topic("preferences")
    consumer = Consumer(consumer_config(settings, f"prefs-cli-{uuid.uuid4().hex[:8]}"))
    try:
        parts = consumer.list_topics(topic, timeout=timeout_s).topics[topic].partitions
        ends = {}
        for p in parts:
            # a topic just created may not have its leaders known yet (Apache Kafka)
            ends[p] = retrying(functools.partial(consumer.get_watermark_offsets,
                                                 TopicPartition(topic, p), timeout_s))[1]
        consumer.assign([TopicPartition(topic, p, 0) for p in parts if ends[p] > 0])
        left = {p for p, end in ends.items() if end > 0}
        out: dict[str, Any] = {}
        deadline = time.monotonic() + timeout_s
        while left and time.monotonic() < deadline:
            for msg in consumer.consume(500, 0.2):
                if msg.error():
                    continue
                raw_key, value = msg.key(), msg.value()
                key = raw_key.decode() if raw_key else ""
                if value is None:
                    out.pop(key, None)
                else:
                    try:
                        out[key] = codec.decode(value, ("Preference",))[1]
                    except ContractError:
                        continue  # the actuators dead-letter it; here it is simply not in force
                offset, part = cast(int, msg.offset()), cast(int, msg.partition())
                if offset + 1 >= ends[part]:
                    left.discard(part)
        return out
    finally:
        consumer.close()

