"""Ingest benchmark: adapters and the ingest loop end to end on an embedded broker."""

from __future__ import annotations

import time

from schemas.errors import BrokerError
from streams.runtime.ingest import Ingestor
from streams.settings import Settings

# -------------------------------------------------------------------------------- bench


def bench_ingest(
    fmt: str = "telegraf", messages: int = 20_000, bootstrap_servers: str | None = None,
    examples: str | None = None,
) -> dict[str, float]:
    """End-to-end throughput of one ingest worker: ``messages`` copies of the format's
    example messages (``tests/data/formats/<fmt>_messages.jsonl`` unless ``examples``) are
    produced raw to a source topic, then consumed, converted and produced to
    ``forewarn.metrics``; messages/s and samples/s from first read to last commit."""
    import uuid
    from pathlib import Path

    from confluent_kafka import Producer

    from streams.runtime.broker import EmbeddedBroker
    from streams.topics import ensure_topics, producer_config

    path = Path(examples) if examples else (
        Path(__file__).resolve().parents[2] / "tests" / "data" / "formats"
        / f"{fmt.replace('-json', '')}_messages.jsonl")
    lines = [ln for ln in path.read_bytes().splitlines() if ln.strip()]
    broker = None
    if bootstrap_servers is None:
        broker = EmbeddedBroker().start()
        bootstrap_servers = broker.bootstrap_servers
    try:
        settings = Settings.load(env={}, bootstrap_servers=bootstrap_servers,
                                 topic_prefix=f"bench{uuid.uuid4().hex[:6]}.")
        ensure_topics(settings)
        source = settings.topic(f"src-{fmt}")
        p = Producer(producer_config(settings, {"linger.ms": 50}))
        for i in range(messages):
            p.produce(source, key=b"bench", value=lines[i % len(lines)])
            if i % 10_000 == 0:
                p.poll(0)
        if p.flush(60):
            raise BrokerError("bench: could not write the source topic")
        ing = Ingestor(settings, fmt, source, group=f"bench-{uuid.uuid4().hex[:6]}")
        t0 = None
        deadline = time.monotonic() + 300
        while ing.stats.messages < messages and time.monotonic() < deadline:
            started = time.monotonic()
            if ing.poll_once(0.5, 1000) and t0 is None:
                t0 = started
        wall = time.monotonic() - (t0 or time.monotonic())
        ing.close()
        return {
            "messages": float(ing.stats.messages),
            "messages_per_s": ing.stats.messages / wall if wall > 0 else 0.0,
            "samples_per_s": ing.stats.samples / wall if wall > 0 else 0.0,
            "batches": float(ing.stats.batches),
            "seconds": wall,
        }
    finally:
        if broker is not None:
            broker.stop()
