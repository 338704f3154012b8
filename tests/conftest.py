"""Shared fixtures. ``broker`` is a real Tansu broker for the whole session (never a fake)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from streams.broker import EmbeddedBroker
from streams.settings import Settings
from streams.topics import ensure_topics


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    log = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with EmbeddedBroker(log_path=log) as b:
        yield b


@pytest.fixture
def settings(broker: EmbeddedBroker, tmp_path: object) -> Settings:
    """Settings with a fresh topic prefix and groups, so tests never see each other's data."""
    tag = uuid.uuid4().hex[:8]
    s = Settings.load(
        env={},
        bootstrap_servers=broker.bootstrap_servers,
        topic_prefix=f"t{tag}.",
        worker_group=f"workers-{tag}",
        actuator_group=f"actuators-{tag}",
        data_dir=str(tmp_path),
    )
    ensure_topics(s)
    return s
