"""Prometheus metrics of the worker and the actuator (served when ``metrics_port`` > 0).

Metrics live in a registry per process object, so tests and embedded runs with several
components in one process never collide; :func:`serve` exposes one registry over HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from schemas.errors import ConfigError

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass
class WorkerMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.messages = Counter("forewarn_worker_messages", "metric messages read", registry=r)
        self.samples = Counter("forewarn_worker_samples", "metric samples processed", registry=r)
        self.polls = Counter("forewarn_worker_polls", "polls of messages run through the "
                             "pipeline at once (messages / polls: the mean poll)", registry=r)
        self.emitted = Counter("forewarn_worker_emitted", "events produced", ["topic"], registry=r)
        self.dead = Counter("forewarn_dead_letters", "messages dead-lettered", ["stage"],
                            registry=r)
        self.handle_s = Histogram("forewarn_worker_handle_seconds", "time to handle a message",
                                  buckets=LATENCY_BUCKETS_S, registry=r)


@dataclass
class ActuatorMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.risks = Counter("forewarn_actuator_risk_events", "risk events read", registry=r)
        self.commands = Counter("forewarn_actuator_commands", "commands issued",
                                ["action", "resource"], registry=r)
        self.outcomes = Counter("forewarn_actuator_outcomes", "outcomes", ["status", "backend"],
                                registry=r)
        self.latency_s = Histogram(
            "forewarn_actuation_latency_seconds",
            "risk event produced → command applied and its outcome sent",
            buckets=LATENCY_BUCKETS_S, registry=r,
        )
        self.state_refused = Gauge(
            "forewarn_actuator_state_refused",
            "1 if the saved engine state was refused at start as stale or unreadable",
            registry=r,
        )
        self.state_bytes = Counter("forewarn_actuator_state_bytes",
                                   "bytes appended to the engine state file", registry=r)
        self.refused_new = Gauge(
            "forewarn_actuator_refused_new",
            "risk scores of never-seen components refused since the start, by the cap: "
            "component (new components per host) or host (new hosts per window)",
            ["cap"], registry=r,
        )


def counters_registry(prefix: str, read: Callable[[], Mapping[str, Any]],
                      doc: str = "") -> CollectorRegistry:
    """A registry exporting a process's stats object at scrape time: each number in ``read()``
    as the counter ``<prefix>_<name>_total``; a map of numbers as one counter labelled
    ``kind`` (bounded by the code: dead-letter stages, and the like)."""

    class _Stats(Collector):
        def collect(self) -> Iterator[CounterMetricFamily]:
            for name, value in read().items():
                if isinstance(value, Mapping):
                    family = CounterMetricFamily(f"{prefix}_{name}", f"{doc} {name}".strip(),
                                                 labels=["kind"])
                    for kind, n in sorted(value.items()):
                        family.add_metric([str(kind)], float(n))
                    yield family
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    yield CounterMetricFamily(f"{prefix}_{name}", f"{doc} {name}".strip(),
                                              value=float(value))

    registry = CollectorRegistry()
    registry.register(_Stats())
    return registry


class _Exporter(BaseHTTPRequestHandler):
    registry: CollectorRegistry

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.split("?", 1)[0] != "/metrics":
            self.send_error(404, "only /metrics is served here")
            return
        body = generate_latest(self.registry)
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE_LATEST)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - scrapes are quiet
        return


def serve(port: int, registry: CollectorRegistry, host: str = "127.0.0.1"
          ) -> ThreadingHTTPServer | None:
    """Expose ``registry`` on ``host:port/metrics`` only (every other path: 404), in a daemon
    thread; None when ``port`` is 0. A port another process holds is a ConfigError."""
    if port <= 0:
        return None
    handler = type("Exporter", (_Exporter,), {"registry": registry})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise ConfigError(f"metrics exporter cannot listen on {host}:{port}: {exc.strerror}; "
                          "set FOREWARN_METRICS_PORT to a free port (0: off)") from exc
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
