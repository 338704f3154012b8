"""Shared fixtures. ``broker`` is a real broker for the whole session (never a fake): the
embedded Tansu by default (``make test``), or, with ``FOREWARN_TEST_BROKER=kafka`` (``make
test-kafka``), a 3-node Apache Kafka 4.x KRaft cluster from ``tests/kafka_harness.py``, whose
topics are then replicated 3 ways with ``min.insync.replicas=2``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streams.runtime.broker import EmbeddedBroker, free_port
from streams.settings import Settings
from streams.topics import ensure_topics

BROKER_KIND = os.environ.get("FOREWARN_TEST_BROKER", "tansu").strip().lower() or "tansu"
if BROKER_KIND not in ("tansu", "kafka"):
    raise pytest.UsageError(f"FOREWARN_TEST_BROKER={BROKER_KIND!r}: use tansu or kafka")
ON_KAFKA = BROKER_KIND == "kafka"
# The shortest group session a test may ask for. Tansu holds a group join for about half the
# session timeout, so its tests use a short one; Apache Kafka refuses sessions below its
# group.min.session.timeout.ms (6 s by default, kept as is), and needs no such workaround.
SHORT_SESSION_MS = 6000 if ON_KAFKA else 3000


@dataclass
class TestBroker:
    """What a test needs of the session's broker, whichever it is."""

    __test__ = False  # not a test class, despite its name

    kind: str  # "tansu" | "kafka"
    bootstrap_servers: str
    replication_factor: int
    cluster: Any = None  # the KafkaCluster on Apache Kafka (fault tests kill its nodes)


def pytest_report_header(config: pytest.Config) -> str:
    if ON_KAFKA:
        return "broker: Apache Kafka 4.x, 3 KRaft nodes (FOREWARN_TEST_BROKER=kafka)"
    return "broker: embedded Tansu (FOREWARN_TEST_BROKER=kafka runs the suite on Apache Kafka)"


def _set_nodeid(item: pytest.Item, nodeid: str) -> None:
    """pytest has no public setter for a node id: pytest 9 keeps a parsed ``_id``, 8 a string."""
    if hasattr(item, "_id"):
        item._id = type(item._id).parse(nodeid)
    else:
        item._nodeid = nodeid


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every test its own node id. schemathesis names its cases ``test[GET /path]`` but
    leaves them all the node id ``test``; pytest-xdist (``make test`` runs it) keys the cases
    it hands out by node id, and would run one case of twelve. Two tests sharing an id are a
    collection error here, rather than a silently lost test."""
    seen: set[str] = set()
    for item in items:
        nodeid = item.nodeid
        if "[" in item.name and not nodeid.endswith(f"::{item.name}"):
            nodeid = f"{nodeid.rsplit('::', 1)[0]}::{item.name}"
            _set_nodeid(item, nodeid)
        if nodeid in seen:
            raise pytest.UsageError(f"two tests share the node id {nodeid}")
        seen.add(nodeid)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say plainly whether the Apache Kafka suite ran, and if it cannot, why."""
    if ON_KAFKA:
        terminalreporter.write_line("Apache Kafka suite: ran on a 3-node Apache Kafka cluster")
        return
    from tests.kafka_harness import unavailable_reason

    why = unavailable_reason()
    terminalreporter.write_line(
        "Apache Kafka suite: not run by this command (integration tests ran on Tansu); "
        + (f"it CANNOT run on this machine: {why}" if why else "run it with `make test-kafka`")
    )


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestBroker]:
    if ON_KAFKA:
        from tests.kafka_harness import HarnessUnavailable, KafkaCluster

        cluster = KafkaCluster(nodes=3, base_dir=tmp_path_factory.mktemp("kafka"))
        try:
            cluster.start()
        except HarnessUnavailable as exc:  # asked for Apache Kafka: a failure, not a skip
            pytest.fail(f"FOREWARN_TEST_BROKER=kafka but {exc}", pytrace=False)
        try:
            yield TestBroker("kafka", cluster.bootstrap_servers, 3, cluster)
        finally:
            cluster.stop()
        return
    log = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with EmbeddedBroker(log_path=log) as b:
        yield TestBroker("tansu", b.bootstrap_servers, 1)


@pytest.fixture(scope="session")
def kafka_cluster(broker: TestBroker) -> Any:
    """The Apache Kafka cluster itself, for tests that kill or pause its nodes."""
    if broker.cluster is None:
        pytest.skip("Apache Kafka only: run by `make test-kafka` (FOREWARN_TEST_BROKER=kafka)")
    return broker.cluster


class Restartable:
    """A broker of the session's kind that a test may stop and start again on the same port
    (Tansu: memory only, so it comes back empty; Apache Kafka: one node, data kept)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.starts = 0
        if ON_KAFKA:
            from tests.kafka_harness import KafkaCluster

            self._cluster = KafkaCluster(nodes=1, heap="384m", base_dir=tmp_path / "kafka")
            self.bootstrap_servers = self._cluster.bootstrap_servers
        else:
            self._port = free_port()
            self._tansu: EmbeddedBroker | None = None
            self.bootstrap_servers = f"127.0.0.1:{self._port}"

    def start(self) -> Restartable:
        self.starts += 1
        if ON_KAFKA:
            if self.starts == 1:
                self._cluster.start()
            else:
                self._cluster.start_node(1)
        else:
            log = self.tmp_path / f"tansu-{self.starts}.log"
            self._tansu = EmbeddedBroker(port=self._port, log_path=log).start()
        return self

    def stop(self) -> None:
        if ON_KAFKA:
            self._cluster.stop_node(1)
        elif self._tansu is not None:
            self._tansu.stop()

    def close(self) -> None:
        if ON_KAFKA:
            self._cluster.stop()
        else:
            self.stop()


@contextmanager
def restartable_broker(tmp_path: Path) -> Iterator[Restartable]:
    b = Restartable(tmp_path).start()
    try:
        yield b
    finally:
        b.close()


def fresh_settings(broker: TestBroker, data_dir: Path) -> Settings:
    """Settings with a fresh topic prefix and groups, so tests never see each other's data."""
    tag = uuid.uuid4().hex[:8]
    s = Settings.load(
        env={},
        bootstrap_servers=broker.bootstrap_servers,
        topic_prefix=f"t{tag}.",
        worker_group=f"workers-{tag}",
        actuator_group=f"actuators-{tag}",
        data_dir=str(data_dir),
        replication_factor=broker.replication_factor,
    )
    ensure_topics(s)
    return s


@pytest.fixture
def settings(broker: TestBroker, tmp_path: Path) -> Settings:
    return fresh_settings(broker, tmp_path)


class WorkerProcess:
    """``forewarn worker`` as a child process; the test that starts it stops it."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        env = {
            **os.environ,
            "FOREWARN_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
            "FOREWARN_TOPIC_PREFIX": settings.topic_prefix,
            "FOREWARN_WORKER_GROUP": settings.worker_group,
            "FOREWARN_DATA_DIR": settings.data_dir,
            "FOREWARN_REPLICATION_FACTOR": str(settings.replication_factor),
        }
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker", "--loglevel", "warning"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        return int(self.proc.returncode)


@pytest.fixture(scope="module")
def worker_env(
    broker: TestBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, WorkerProcess]]:
    """One worker shared by a module's tests (each test uses its own component ids)."""
    data_dir = tmp_path_factory.mktemp("worker")
    s = fresh_settings(broker, data_dir)
    w = WorkerProcess(s, data_dir / "worker.log")
    try:
        yield s, w
    finally:
        w.stop()
