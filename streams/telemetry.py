"""Prometheus metrics of the worker and the actuator (served when ``metrics_port`` > 0).

Metrics live in a registry per process object, so tests and embedded runs with several
components in one process never collide; :func:`serve` exposes one registry over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass
class WorkerMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.messages = Counter("forewarn_worker_messages", "metric messages read", registry=r)
        self.samples = Counter("forewarn_worker_samples", "metric samples processed", registry=r)
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


def serve(port: int, registry: CollectorRegistry) -> None:
    """Expose ``registry`` on ``127.0.0.1:port``/metrics (no-op when port is 0)."""
    if port > 0:
        start_http_server(port, addr="0.0.0.0", registry=registry)
