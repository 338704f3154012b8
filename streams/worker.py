"""The processor worker: a Faust app whose one agent reads ``forewarn.metrics``.

Per message it calls :class:`streams.handler.MetricsHandler` (the pure pipeline behind a
codec) and sends what comes back — health signals, risk scores, dead letters — to their topics,
keyed by component. Scaling out is adding workers to the group: partitions, and with them the
components, are shared among them.

Faust traps avoided on purpose (see the developers' brief): the agent runs with
``concurrency=1`` (faust #606: more can commit past an unprocessed message); windows are kept by
the pipeline in event time, not in Faust's windowed tables (#385: their expiry uses wall time).
Delivery is at-least-once: after a crash, messages since the last commit are processed again.
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from processors.pipeline import Pipeline, PipelineConfig
from schemas.codec import Codec
from streams.handler import MetricsHandler
from streams.settings import Settings
from streams.telemetry import WorkerMetrics, serve

log = logging.getLogger(__name__)


def pipeline_config(settings: Settings) -> PipelineConfig:
    from processors.health import load_rules

    kwargs: dict[str, Any] = {
        "window_s": settings.window_s,
        "lateness_s": settings.lateness_s,
        "horizon_s": settings.horizon_s,
    }
    if settings.health_rules:
        kwargs["rules"] = load_rules(settings.health_rules)
    return PipelineConfig(**kwargs)


def create_app(settings: Settings) -> faust.App:
    """A Faust app wired to ``settings``; nothing connects until it is started."""
    from pathlib import Path

    datadir = Path(settings.data_dir) / "faust"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.worker_group,
        broker=f"kafka://{settings.bootstrap_servers}",
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
    codec = Codec(settings.wire_format, registry_url=settings.registry_url or None)
    handler = MetricsHandler(Pipeline(pipeline_config(settings)), codec, settings.topic)
    app.forewarn_handler = handler  # type: ignore[attr-defined]  # for tests and metrics

    metrics = app.topic(settings.topic("metrics"), key_type=bytes, value_type=bytes)
    sinks = {
        name: app.topic(settings.topic(name), key_type=bytes, value_type=bytes)
        for name in ("health", "risk", "deadletter")
    }
    by_full = {settings.topic(n): t for n, t in sinks.items()}

    telemetry = WorkerMetrics()
    app.forewarn_metrics = telemetry  # type: ignore[attr-defined]

    @app.agent(metrics, name="forewarn.process", concurrency=1)
    async def process(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            msg = event.message
            samples, dead = handler.counters.samples, dict(handler.counters.dead)
            with telemetry.handle_s.time():
                outs = handler.handle(msg.value, msg.key, msg.topic, msg.partition, msg.offset)
            telemetry.messages.inc()
            telemetry.samples.inc(handler.counters.samples - samples)
            for stage, n in handler.counters.dead.items():
                if n != dead.get(stage, 0):
                    telemetry.dead.labels(stage).inc(n - dead.get(stage, 0))
            for out in outs:
                telemetry.emitted.labels(out.topic).inc()
                await by_full[out.topic].send(key=out.key, value=out.value)

    return app


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Run a worker until SIGINT/SIGTERM."""
    from streams.topics import ensure_topics

    ensure_topics(settings)
    app = create_app(settings)
    serve(settings.metrics_port, app.forewarn_metrics.registry)  # type: ignore[attr-defined]
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()
