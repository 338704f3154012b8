"""Shared fixtures. ``broker`` is a real Tansu broker for the whole session (never a fake)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.runtime.broker import EmbeddedBroker
from streams.settings import Settings
from streams.topics import ensure_topics


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    log = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with EmbeddedBroker(log_path=log) as b:
        yield b


def fresh_settings(broker: EmbeddedBroker, data_dir: Path) -> Settings:
    """Settings with a fresh topic prefix and groups, so tests never see each other's data."""
    tag = uuid.uuid4().hex[:8]
    s = Settings.load(
        env={},
        bootstrap_servers=broker.bootstrap_servers,
        topic_prefix=f"t{tag}.",
        worker_group=f"workers-{tag}",
        actuator_group=f"actuators-{tag}",
        data_dir=str(data_dir),
    )
    ensure_topics(s)
    return s


@pytest.fixture
def settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
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
    broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, WorkerProcess]]:
    """One worker shared by a module's tests (each test uses its own component ids)."""
    data_dir = tmp_path_factory.mktemp("worker")
    s = fresh_settings(broker, data_dir)
    w = WorkerProcess(s, data_dir / "worker.log")
    try:
        yield s, w
    finally:
        w.stop()
