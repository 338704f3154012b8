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

import argparse
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from actuators.pool import RESOURCES
from schemas.codec import Codec
from schemas.errors import ConfigError, ContractError

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
            ends[p] = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout_s)[1]
        consumer.assign([TopicPartition(topic, p, 0) for p in parts if ends[p] > 0])
        left, out = {p for p, end in ends.items() if end > 0}, {}
        deadline = time.monotonic() + timeout_s
        while left and time.monotonic() < deadline:
            for msg in consumer.consume(500, 0.2):
                if msg.error():
                    continue
                key = msg.key().decode() if msg.key() else ""
                if msg.value() is None:
                    out.pop(key, None)
                else:
                    try:
                        out[key] = codec.decode(msg.value(), ("Preference",))[1]
                    except ContractError:
                        continue  # the actuators dead-letter it; here it is simply not in force
                if msg.offset() + 1 >= ends[msg.partition()]:
                    left.discard(msg.partition())
        return out
    finally:
        consumer.close()


def cmd_prefs(args: argparse.Namespace) -> int:
    from confluent_kafka import Producer

    from streams.cli import settings_of
    from streams.topics import ensure_topics, producer_config

    settings = settings_of(args)
    ensure_topics(settings)
    codec = Codec(settings.wire_format, registry_url=settings.registry_url or None)
    current = read_preferences(settings, codec)
    if args.verb == "list":
        for sel, p in sorted(current.items()):
            allowed = ",".join(p["allowed_resources"] or ["*"])
            maxima = ",".join(f"{k}={v:g}" for k, v in sorted(p["maxima"].items())) or "-"
            state = "PAUSED" if p["paused"] else "active"
            print(f"{sel:30} criticality {p['criticality']:>2}  {state:6}  allow {allowed}  "
                  f"max {maxima}")
        return 0
    topic, producer = settings.topic("preferences"), Producer(producer_config(settings))
    if args.verb == "clear":
        producer.produce(topic, key=args.selector.encode(), value=None)
        print(f"cleared {args.selector}")
    else:
        paused = True if args.pause else (False if args.resume else None)
        rec = make_preference(args.selector, int(time.time() * 1000),
                              current.get(args.selector), criticality=args.criticality,
                              allow=args.allow, maxima=parse_maxima(args.max) or None,
                              paused=paused)
        producer.produce(topic, key=args.selector.encode(),
                         value=codec.encode("Preference", rec, topic=topic))
        print(f"set {args.selector}: {rec}")
    if producer.flush(10) > 0:
        raise ContractError(f"could not deliver to {topic} within 10 s")
    return 0


def add_subcommand(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("prefs", help="steer the actuators: criticality, resources, pause",
                       description=__doc__.split("\n\n")[1])
    verbs = p.add_subparsers(dest="verb", required=True)
    s = verbs.add_parser("set", help="create or change a selector's preference")
    s.add_argument("selector", help="a component id or an fnmatch glob, e.g. 'db-*'")
    s.add_argument("--criticality", type=int, help="0..10 (default 5 for a new selector)")
    s.add_argument("--allow", nargs="*", metavar="RESOURCE",
                   help=f"only these resources ({', '.join(RESOURCES)}); none given: all")
    s.add_argument("--max", action="append", default=[], metavar="RESOURCE=AMOUNT",
                   help="the largest lease of a resource (repeatable)")
    onoff = s.add_mutually_exclusive_group()
    onoff.add_argument("--pause", action="store_true", help="no command at all until resumed")
    onoff.add_argument("--resume", action="store_true")
    c = verbs.add_parser("clear", help="withdraw a selector's preference (a tombstone)")
    c.add_argument("selector")
    verbs.add_parser("list", help="the preferences in force")
    p.set_defaults(func=cmd_prefs)
