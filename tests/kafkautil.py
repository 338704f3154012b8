"""Small helpers for integration tests: produce and read back through the real broker."""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from schemas.codec import Codec
from streams.settings import Settings
from streams.topics import consumer_config, producer_config


def producer(settings: Settings) -> Producer:
    return Producer(producer_config(settings))


def read_all(
    settings: Settings,
    name: str,
    until: Any = None,
    timeout_s: float = 60.0,
    codec: Codec | None = None,
) -> list[tuple[int, int, bytes | None, Any]]:
    """Read ``settings.topic(name)`` from the start of every partition until ``until(records)``
    is true (or, with no ``until``, until the topic is quiet); (partition, offset, key, record)
    with records decoded by ``codec`` (raw bytes when ``codec`` is None)."""
    topic = settings.topic(name)
    c = Consumer(consumer_config(settings, "reader"))
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        out: list[tuple[int, int, bytes | None, Any]] = []
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            msgs = c.consume(500, 0.5)
            for m in msgs:
                if m.error():
                    continue
                rec = codec.decode(m.value())[1] if codec else m.value()
                out.append((m.partition(), m.offset(), m.key(), rec))
            if msgs:
                quiet_since = time.monotonic()
            if until is not None and until(out):
                return out
            if until is None and time.monotonic() - quiet_since > 3:
                return out
        return out
    finally:
        c.close()
