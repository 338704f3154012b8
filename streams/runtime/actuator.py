"""The actuator: a confluent-kafka consumer group over ``forewarn.risk`` and ``forewarn.health``.

Per risk event it asks the allocation engine (pure, ``actuators/engine.py``) for commands,
writes each to ``forewarn.allocations``, applies it with the backend, and writes the outcome to
``forewarn.outcomes``. Offsets are committed only after the producer has flushed everything a
batch caused, so delivery is at-least-once; backends are idempotent by ``command_id`` and the
engine ignores a risk event not newer than the last one of its component, so a redelivered
batch changes nothing.

Preferences are read from the compacted ``forewarn.preferences`` topic in full, from the start,
by every actuator (not shared out by the group): each needs all of them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from actuators.backends.base import Backend
from actuators.engine import AllocationEngine
from schemas.codec import Codec
from schemas.errors import BrokerError, ContractError
from streams.handler import DeadLetters
from streams.runtime.actuatorsetup import BACKENDS, host_of, make_backend, owned_globs, ownership
from streams.runtime.actuatorstate import StateKeeper
from streams.runtime.retry import COMMIT_AGAIN
from streams.security import KafkaSecurity, refused
from streams.settings import Settings
from streams.telemetry import ActuatorMetrics, serve
from streams.topics import consumer_config, producer_config

log = logging.getLogger(__name__)
# what other modules import from here (the setup moved to streams/runtime/actuatorsetup.py)
__all__ = ["BACKENDS", "Actuator", "ActuatorStats", "host_of", "make_backend", "owned_globs",
           "ownership", "run_actuator"]


MAX_FUTURE_MS = 3_600_000  # risk stamped further ahead of the wall clock is refused
FETCH_WAIT_MS = 20
STATE_EVERY_S = 30.0  # the engine's state is written at least this often while risk flows


@dataclass
class ActuatorStats:
    risks: int = 0
    health: int = 0  # health signals of owned components, given to the engine's feedback
    commands: int = 0
    outcomes: int = 0
    dead: int = 0
    not_owned: int = 0  # risk events of components this actuator does not own, skipped
    # risk produced → outcome written, the latest ones (bounded: the actuator runs for months)
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))


class Actuator:
    """Consumes risk, drives the engine and a backend, produces commands and outcomes."""

    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        engine: AllocationEngine | None = None,
        wall_clock_ms: Callable[[], float] = lambda: time.time() * 1000,
        persist: bool = True,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.engine = engine or AllocationEngine(settings.engine_config())
        self.codec = Codec(settings.wire_format, registry_url=settings.registry_url or None)
        self.stats = ActuatorStats()
        self.metrics = ActuatorMetrics()
        self._clock = wall_clock_ms
        self._producer = Producer(producer_config(settings))
        # Latency matters more than fetch efficiency here: librdkafka's default fetch wait
        # (500 ms) would hold each risk event up to that long on a quiet partition.
        self._risk = Consumer(consumer_config(settings, settings.actuator_group,
                                              {"fetch.wait.max.ms": FETCH_WAIT_MS}))
        # health comes with risk (keyed alike, so co-partitioned): it says whether a breach
        # followed a grant, which the engine's feedback learns from
        self._health_topic = settings.topic("health")
        # operators' verdicts on alarms (keyed by component too): the engine moves the
        # component's alarm point (AllocationEngine.on_feedback)
        self._feedback_topic = settings.topic("feedback")
        self._risk.subscribe([settings.topic("risk"), self._health_topic, self._feedback_topic])
        # A private group id: preferences are assigned whole and never committed.
        self._prefs = Consumer(
            consumer_config(settings, f"{settings.actuator_group}-prefs-{uuid.uuid4().hex[:8]}")
        )
        self._assign_all(self._prefs, settings.topic("preferences"),
                         KafkaSecurity.from_settings(settings))
        self._dead = DeadLetters(self.codec, settings.topic)
        self.owns = ownership(settings.owned)
        self._event_ms: int | None = None  # the fleet's event time, as last taken
        self._event_wall = 0.0  # monotonic time when it was taken
        # each owned component's newest risk time: the fleet's time is their lower median,
        # so a minority of hosts whose clocks run ahead (or forged scores) cannot move it
        self._latest: dict[str, int] = {}
        self._median_at = -1.0
        # The engine's state (leases the backends hold, cooldowns, learnt posteriors) survives
        # a restart: streams/runtime/enginestate.py, bound to this cluster, backend and the
        # offsets it covers. Before each commit the offsets are appended, and the parts of the
        # components whose commands or engine outcomes changed them; the rest every
        # STATE_EVERY_S (what changes in between, a component's last risk time, is safe to lose).
        path = (Path(settings.data_dir) / f"actuator-{settings.actuator_group}.state"
                if persist else None)
        self.state = StateKeeper(path, self.engine, self._risk, self.metrics)
        if path is not None:
            self.state.restore(*self._binding())

    @property
    def state_path(self) -> Path | None:
        return self.state.path

    @property
    def state_refused(self) -> list[str]:
        """Why a saved state was not applied, if it was not."""
        return self.state.refused

    @staticmethod
    def _assign_all(consumer: Consumer, topic: str, security: KafkaSecurity | None = None
                    ) -> None:
        meta = consumer.list_topics(topic, timeout=10)
        err = meta.topics[topic].error if topic in meta.topics else None
        line = refused(err, "actuator", "read", topic, security) if err is not None else None
        if line:
            raise BrokerError(line)
        if topic not in meta.topics or err is not None:
            raise BrokerError(f"topic {topic} does not exist; run `forewarn topics` first")
        parts = meta.topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in parts])

    def poll_once(self, timeout_s: float = 0.5) -> int:
        """Read what is there (preferences first), act on it, flush, commit; messages seen."""
        for msg in self._prefs.consume(500, 0):
            self._preference(msg)
        msgs = self._risk.consume(500, 0)
        if not msgs:  # wait for the first one only: consume(n, t) would hold it up to t
            first = self._risk.poll(timeout_s)
            msgs = [] if first is None else [first, *self._risk.consume(499, 0)]
        for msg in msgs:
            if not self._usable(msg):
                continue
            if msg.topic() == self._health_topic:
                self._on_health(msg)
            elif msg.topic() == self._feedback_topic:
                self._on_feedback(msg)
            else:
                self._on_risk(msg)
        self.tick()
        if (msgs or len(self._producer)) and self._producer.flush(30) > 0:
            raise BrokerError("producer could not deliver within 30 s; not committing")
        if msgs:
            due = time.monotonic() - self.state.saved_at >= STATE_EVERY_S
            self.state.save(self.state.changed or due)
            try:
                self._risk.commit(asynchronous=False)
            except KafkaException as exc:
                # The group coordinator moved (its broker died) or a rebalance is under way:
                # nothing is lost, the next commit covers these offsets (or the batch comes
                # again, and the engine and the backends take it once). Anything else stops.
                if exc.args[0].code() not in COMMIT_AGAIN:
                    raise
                log.warning("commit deferred to the next batch: %s", exc.args[0])
        return len(msgs)

    def _usable(self, msg: Message) -> bool:
        err = msg.error()
        if err is None:
            return True
        if err.code() != KafkaError._PARTITION_EOF:
            line = refused(err, "actuator", "read", msg.topic() or "its topics",
                           KafkaSecurity.from_settings(self.settings))
            if line:  # no ACL for it: stop with one clear line, not a warning per poll
                raise BrokerError(line)
            log.warning("consumer error on %s: %s", msg.topic(), err)
        return False

    def _preference(self, msg: Message) -> None:
        if msg.error():
            return
        if msg.value() is None:  # a tombstone: the selector's preference is withdrawn
            key = msg.key()
            if key:
                self.engine.forget_preference(key.decode())
            return
        pref = self._decoded(msg, "Preference")
        if pref is None:
            return
        ts = pref.get("ts")
        if isinstance(ts, int) and ts > self._clock() + MAX_FUTURE_MS:
            # per selector the latest ts wins: one stamped 2^53 would override every later one
            self._dead_letter(msg, "validate", detail=f"preference ts {ts} is more than "
                              f"{MAX_FUTURE_MS // 60_000} min ahead of this host's clock")
            return
        self.engine.on_preference(pref)

    def _decoded(self, msg: Message, event_type: str) -> dict[str, Any] | None:
        """The message's record, or None once it is dead-lettered as undecodable."""
        try:
            return self.codec.decode(msg.value(), (event_type,))[1]
        except ContractError as exc:
            self._dead_letter(msg, "decode", exc)
            return None

    def _on_risk(self, msg: Message) -> None:
        risk = self._decoded(msg, "RiskScore")
        if risk is None:
            return
        ts = int(risk["ts"])
        if ts > self._clock() + MAX_FUTURE_MS:
            # A clock far ahead would end every lease in the fleet: refuse it, keep it.
            self._dead_letter(msg, "validate", detail=f"risk ts {ts} is more than "
                              f"{MAX_FUTURE_MS // 60_000} min ahead of this host's clock")
            return
        component = str(risk["component"])
        if not self.owns(component):
            # Another actuator's (or nobody's): its time and pool must not touch this engine.
            self.stats.not_owned += 1
            return
        self.stats.risks += 1
        self.metrics.risks.inc()
        self._seen(ts, component)
        self._dispatch(self.engine.on_risk(risk, host_of(component)), msg)
        self.metrics.refused_new.labels("component").set(self.engine.refused_new)
        self.metrics.refused_new.labels("host").set(self.engine.refused_hosts)

    def _on_feedback(self, msg: Message) -> None:
        fb = self._decoded(msg, "Feedback")
        if fb is None or not self.owns(str(fb["component"])):
            return
        offset = self.engine.on_feedback(fb)
        self.state.changed = True
        log.info("feedback %s on %s@%s: its alarm point is now risk_threshold + %.2f",
                 fb["verdict"], fb["component"], fb["ts"], offset)

    def _on_health(self, msg: Message) -> None:
        signal = self._decoded(msg, "HealthSignal")
        if signal is None:
            return
        if not self.owns(str(signal["component"])):
            return
        self.stats.health += 1
        try:
            self.engine.on_health(signal)
        except ContractError as exc:
            self._dead_letter(msg, "validate", exc)
            return
        self._dispatch([], None)  # effects the signal completed

    def _seen(self, ts: int, component: str) -> None:
        if ts > self._latest.get(component, ts - 1):
            self._latest[component] = ts

    def fleet_ms(self) -> int | None:
        """The fleet's event time: the lower median of the components' newest risk times
        (recomputed at most once a second), carried forward by the wall time since, never
        backwards; None before the first risk."""
        if not self._latest:
            return None
        mono = time.monotonic()
        carried = (None if self._event_ms is None
                   else self._event_ms + int((mono - self._event_wall) * 1000))
        if carried is None or mono - self._median_at >= 1.0:
            self._median_at = mono
            times = sorted(self._latest.values())
            median = times[(len(times) - 1) // 2]
            if carried is None or median > carried:
                self._event_ms, self._event_wall = median, mono
                return median
        return carried

    def tick(self) -> None:
        """End leases whose time is up, by the fleet's event time (:meth:`fleet_ms`), so
        leases still end while the risk stream is quiet, and one host's clock moves no other's
        (the engine decides each component on its own clock)."""
        now = self.fleet_ms()
        if now is None:
            return
        self._dispatch(self.engine.tick(now), None)

    def _dispatch(self, commands: list[dict[str, Any]], msg: Message | None) -> None:
        """Publish, apply and report each command, then the engine's own outcomes."""
        if commands:
            self.state.touch([str(c["component"]) for c in commands])
        for command in commands:
            self._send("allocations", "AllocationCommand", command)
            outcome = self.backend.apply(command)
            self.engine.on_outcome(outcome)
            self._send("outcomes", "AllocationOutcome", outcome)
            self.stats.commands += 1
            self.metrics.commands.labels(command["action"], command["resource"]).inc()
            if msg is not None:
                self._latency(msg)
        for outcome in self.engine.drain_outcomes():
            self._send("outcomes", "AllocationOutcome", outcome)
            # a lease ended, a deferral, a learnt effect
            self.state.touch([str(outcome["component"])])

    def _latency(self, msg: Message) -> None:
        kind, ts_ms = msg.timestamp()
        if kind != 0 and ts_ms > 0:  # 0: TIMESTAMP_NOT_AVAILABLE
            latency_ms = self._clock() - ts_ms
            self.stats.latencies_ms.append(latency_ms)
            self.metrics.latency_s.observe(latency_ms / 1000)

    def _send(self, name: str, event_type: str, record: dict[str, Any]) -> None:
        topic = self.settings.topic(name)
        value = self.codec.encode(event_type, record, topic=topic)
        self._producer.produce(topic, key=str(record["component"]).encode(), value=value)
        if name == "outcomes":
            self.stats.outcomes += 1
            self.metrics.outcomes.labels(record["status"], record["backend"]).inc()
        self._producer.poll(0)

    def _dead_letter(
        self, msg: Message, stage: str, exc: BaseException | None = None, detail: str = ""
    ) -> None:
        self.stats.dead += 1
        out = self._dead(msg.value(), msg.key(), cast(str, msg.topic()),
                         cast(int, msg.partition()), cast(int, msg.offset()), stage, exc, detail)
        self._producer.produce(out.topic, key=out.key, value=out.value)

    def _binding(self) -> tuple[dict[str, Any], list[TopicPartition]]:
        """What a saved engine state is valid for (besides the offsets it covers), and the
        partitions whose offsets it covers."""
        meta = self._risk.list_topics(timeout=10)
        tps = [TopicPartition(t, p) for t in (self.settings.topic("risk"), self._health_topic)
               if t in meta.topics for p in sorted(meta.topics[t].partitions)]
        return {"cluster_id": meta.cluster_id or "", "backend": self.backend.name,
                "owned": self.settings.owned, "group": self.settings.actuator_group}, tps

    def save_state(self, parts: bool = True) -> None:
        """Save the engine's state now (``streams/runtime/actuatorstate.py``)."""
        self.state.save(parts)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.poll_once()

    def close(self) -> None:
        self._producer.flush(10)
        self.state.save()
        self.state.close()
        for consumer in (self._risk, self._prefs):
            consumer.close()
        close_backend = getattr(self.backend, "close", None)  # a client's connections
        if callable(close_backend):
            close_backend()


def run_actuator(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM."""
    import signal

    from streams.topics import ensure_topics

    ensure_topics(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    actuator = Actuator(settings, make_backend(settings))
    serve(settings.metrics_port, actuator.metrics.registry, settings.metrics_host)
    log.info("actuator up: group %s, backend %s", settings.actuator_group, actuator.backend.name)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is a normal stop
            actuator.run(stop)
    finally:
        actuator.close()
