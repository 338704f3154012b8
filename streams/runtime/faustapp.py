"""The worker's Faust app, configured from the settings (moved out of
:mod:`streams.runtime.worker`, which imports it from here)."""

from __future__ import annotations

import faust

from streams.runtime.gctune import tune_gc
from streams.security import KafkaSecurity
from streams.settings import Settings


def faust_app(settings: Settings) -> faust.App:
    """The Faust app of a worker, configured from ``settings``; nothing connects yet. The
    process's garbage collector is tuned for the worker (``worker_gc_gen0``)."""
    from pathlib import Path

    tune_gc(settings.worker_gc_gen0)
    datadir = Path(settings.data_dir) / "faust"
    datadir.mkdir(parents=True, exist_ok=True)
    security = KafkaSecurity.from_settings(settings)
    return faust.App(
        settings.worker_group,
        broker=f"kafka://{settings.bootstrap_servers}",
        broker_credentials=security.faust_credentials(),  # None: plaintext
        store="memory://",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_ms / 1000,
        broker_heartbeat_interval=1.0,
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        producer_acks=-1,
        web_enabled=settings.worker_web_port > 0,
        web_port=settings.worker_web_port or 6066,
        web_host="127.0.0.1",
        datadir=str(datadir),
    )
