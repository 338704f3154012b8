"""``forewarn actuate --sizing POLICY``: right-sizing live, the same code as the backtests.

A confluent-kafka consumer (group ``<actuator_group>-sizing``) over ``forewarn.metrics`` and
``forewarn.risk``: each ``MetricSample`` goes to the sizing, each ``RiskScore`` to its
``on_risk``; every command it returns is written to ``forewarn.allocations``, applied by the
backend, its outcome written to ``forewarn.outcomes`` and handed back to the sizing (its
``on_outcome``, where it has one). The sizing is :class:`actuators.rightsize.RightSizing`
(``backtest trace``: demand ``cpu.used_mhz`` / ``mem.used_kb`` and the provisioned
``cpu.capacity_mhz`` / ``mem.capacity_kb``) or, for ``--sizing fleet``,
:class:`actuators.fleetsizing.FleetSizing` (``backtest fleet --policy forewarn``: utilisation
samples, vertical knobs and replicas; the components as provisioned from a workloads file,
:func:`load_workloads`). A message no codec reads is dead-lettered with its reason. Offsets are
committed after the producer has flushed what a batch caused (at-least-once; backends are
idempotent by ``command_id``). Metrics and risk of one component share its partition key, so
one component's events keep their order within each topic.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from confluent_kafka import Consumer, KafkaError, Message, Producer

from actuators.backends.base import Backend
from actuators.fleetsizing import DEFAULT_HEADROOM, FleetSizing, FleetSizingConfig, Workload
from actuators.rightsize import RightSizing
from schemas.codec import Codec
from schemas.errors import BrokerError, ConfigError, ContractError
from streams.handler import DeadLetters
from streams.settings import Settings
from streams.topics import consumer_config, producer_config

log = logging.getLogger(__name__)


@dataclass
class SizingStats:
    samples: int = 0
    risks: int = 0
    commands: int = 0
    dead: int = 0


class SizingActuator:
    """Samples and risk in; right-sizing commands and their outcomes out."""

    def __init__(self, settings: Settings, backend: Backend,
                 sizing: RightSizing | FleetSizing) -> None:
        self.settings = settings
        self.backend = backend
        self.sizing = sizing
        self.codec = Codec(settings.wire_format, registry_url=settings.registry_url or None)
        self.stats = SizingStats()
        self._producer = Producer(producer_config(settings))
        self._metrics_topic = settings.topic("metrics")
        self._consumer = Consumer(consumer_config(settings, f"{settings.actuator_group}-sizing",
                                                  {"fetch.wait.max.ms": 20}))
        self._consumer.subscribe([self._metrics_topic, settings.topic("risk")])
        self._dead = DeadLetters(self.codec, settings.topic)

    def poll_once(self, timeout_s: float = 0.5) -> int:
        msgs = self._consumer.consume(500, timeout_s)
        for msg in msgs:
            err = msg.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("consumer error on %s: %s", msg.topic(), err)
                continue
            if msg.topic() == self._metrics_topic:
                sample = self._decoded(msg, "MetricSample")
                if sample is not None:
                    self.stats.samples += 1
                    self._dispatch(self.sizing.on_sample(sample))
            else:
                risk = self._decoded(msg, "RiskScore")
                if risk is not None:
                    self.stats.risks += 1
                    self.sizing.on_risk(risk)
        if (msgs or len(self._producer)) and self._producer.flush(30) > 0:
            raise BrokerError("producer could not deliver within 30 s; not committing")
        if msgs:
            self._consumer.commit(asynchronous=False)
        return len(msgs)

    def _decoded(self, msg: Message, event_type: str) -> dict[str, Any] | None:
        try:
            return self.codec.decode(msg.value(), (event_type,))[1]
        except ContractError as exc:
            self.stats.dead += 1
            out = self._dead(msg.value(), msg.key(), cast(str, msg.topic()),
                             cast(int, msg.partition()), cast(int, msg.offset()),
                             "decode", exc, "")
            self._producer.produce(out.topic, key=out.key, value=out.value)
            return None

    def _dispatch(self, commands: list[dict[str, Any]]) -> None:
        on_outcome = getattr(self.sizing, "on_outcome", None)
        for command in commands:
            self._send("allocations", "AllocationCommand", command)
            outcome = self.backend.apply(command)
            self._send("outcomes", "AllocationOutcome", outcome)
            if on_outcome is not None:
                on_outcome(outcome)
            self.stats.commands += 1

    def _send(self, name: str, event_type: str, record: dict[str, Any]) -> None:
        topic = self.settings.topic(name)
        self._producer.produce(topic, key=str(record["component"]).encode(),
                               value=self.codec.encode(event_type, record, topic=topic))
        self._producer.poll(0)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.poll_once()

    def close(self) -> None:
        self._producer.flush(10)
        self._consumer.close()


def load_workloads(path: str | Path) -> list[Workload]:
    """The components ``--sizing fleet`` sizes, from a JSON list of objects with ``id``,
    ``host``, ``cores``, ``mem_gib``, ``link_mbit`` and optional ``replicas`` and
    ``headroom`` (pool -> the host's size over the component's base). Raises ConfigError
    with one line on a bad file."""
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
        return [Workload(str(r["id"]), str(r.get("host") or r["id"]), float(r["cores"]),
                         float(r["mem_gib"]), float(r["link_mbit"]), int(r.get("replicas", 1)),
                         dict(r.get("headroom") or DEFAULT_HEADROOM))
                for r in rows]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"workloads file {path}: {exc!r}") from exc


def make_sizing(policy: str, knob: float | None, delay_s: int, step_s: int,
                workloads: str | Path | None = None,
                fleet_prior: str = "builtin") -> RightSizing | FleetSizing:
    """The sizing ``--sizing POLICY`` runs: ``fleet`` needs ``workloads`` (a file);
    ``fleet_prior`` (a file or ``"builtin"``, the default; ``""`` or ``"off"``: off;
    ``forewarn`` only) seeds each new component's memory histograms
    (:mod:`actuators.fleetprior`), as ``backtest trace --fleet-prior`` does."""
    if policy != "fleet":
        from actuators.fleetprior import load, named

        options = {"fleet_prior": fleet_prior} if policy == "forewarn" else {}
        if named(fleet_prior) and options:
            load(fleet_prior)  # a bad file stops the process at start, with one line
        return RightSizing(policy, knob, delay_s=delay_s, step_s=step_s, options=options)
    if workloads is None:
        raise ConfigError("--sizing fleet needs a workloads file (--workloads FILE)")
    return FleetSizing(load_workloads(workloads),
                       FleetSizingConfig(decision_s=step_s, replica_lead_s=delay_s, knob=knob))


def run_sizing(settings: Settings, backend: Backend, policy: str, knob: float | None,
               delay_s: int, step_s: int, workloads: str | Path | None = None) -> None:
    """Run until SIGINT/SIGTERM."""
    import signal

    from streams.topics import ensure_topics

    sizing = make_sizing(policy, knob, delay_s, step_s, workloads, settings.sizing_fleet_prior)
    ensure_topics(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    act = SizingActuator(settings, backend, sizing)
    log.info("right-sizing up: policy %s, knob %s, backend %s", policy,
             getattr(sizing, "knob", knob), backend.name)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            act.run(stop)
    finally:
        act.close()
