"""The broker a benchmark runs on, so figures can be set side by side.

``tansu`` (the default) is the embedded broker. ``kafka`` is a 3-node Apache Kafka 4.x KRaft
cluster on loopback from the repository's test harness (``tests/kafka_harness.py``, jars fetched
by ``deploy/kafka/pom.xml``), with topics replicated 3 ways and ``min.insync.replicas=2``, as a
production cluster runs them; it needs java and mvn, and the repository root as working folder
(``make bench BENCH_ARGS="kafka worker --broker kafka"``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from schemas.errors import BrokerError
from streams.runtime.broker import EmbeddedBroker

KINDS = ("tansu", "kafka")
KIND = "tansu"  # what bench_broker() starts; ``python -m streams.bench --broker`` sets it


@dataclass(frozen=True)
class BenchBroker:
    kind: str
    bootstrap_servers: str
    replication_factor: int


@contextmanager
def bench_broker(kind: str | None = None) -> Iterator[BenchBroker]:
    """Start the broker of ``kind`` (default: :data:`KIND`), yield it, stop it."""
    kind = kind or KIND
    if kind == "tansu":
        with EmbeddedBroker() as b:
            yield BenchBroker("tansu", b.bootstrap_servers, 1)
        return
    if kind != "kafka":
        raise BrokerError(f"unknown broker {kind!r}; known: {', '.join(KINDS)}")
    try:
        from tests.kafka_harness import HarnessUnavailable, KafkaCluster
    except ImportError as exc:
        raise BrokerError(f"--broker kafka needs tests/kafka_harness.py: run from the "
                          f"repository root ({exc})") from exc
    cluster = KafkaCluster(nodes=3)
    try:
        cluster.start()
    except HarnessUnavailable as exc:
        raise BrokerError(str(exc)) from exc
    try:
        yield BenchBroker("kafka", cluster.bootstrap_servers, 3)
    finally:
        cluster.stop()
