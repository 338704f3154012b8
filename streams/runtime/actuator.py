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
import fnmatch
import importlib
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from actuators.backends.base import Backend
from actuators.backends.dryrun import DryRunBackend
from actuators.engine import AllocationEngine
from schemas.codec import Codec
from schemas.errors import BrokerError, ConfigError, ContractError
from streams.handler import DeadLetters
from streams.runtime.enginestate import EngineStateStore, read, stale_reasons
from streams.security import KafkaSecurity, refused
from streams.settings import Settings
from streams.telemetry import ActuatorMetrics, serve
from streams.topics import consumer_config, producer_config

log = logging.getLogger(__name__)


MAX_FUTURE_MS = 3_600_000  # risk stamped further ahead of the wall clock is refused
FETCH_WAIT_MS = 20
STATE_EVERY_S = 30.0  # the engine's state is written at least this often while risk flows


def host_of(component: str) -> str:
    """The host part of a component id: ``web-17/postgres`` → ``web-17``."""
    return component.split("/", 1)[0]


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
        self.state_path = (Path(settings.data_dir) / f"actuator-{settings.actuator_group}.state"
                           if persist else None)
        self._changed, self._saved_at = False, time.monotonic()
        self.state_refused: list[str] = []  # why a saved state was not applied, if it was not
        self._store: EngineStateStore | None = None
        self._offsets: dict[str, int] = {}  # topic[p] -> the next offset the state covers
        self._restore_state()

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
            self.save_state(self._changed or time.monotonic() - self._saved_at >= STATE_EVERY_S)
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
            if msg.key():
                self.engine.forget_preference(msg.key().decode())
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

    def _on_feedback(self, msg: Message) -> None:
        fb = self._decoded(msg, "Feedback")
        if fb is None or not self.owns(str(fb["component"])):
            return
        offset = self.engine.on_feedback(fb)
        self._changed = True
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
        if self._store is not None:
            self._store.touch(str(c["component"]) for c in commands)
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
            self._changed = True  # a lease ended, a deferral, a learnt effect
            if self._store is not None:
                self._store.touch([str(outcome["component"])])
        if commands:
            self._changed = True

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
        out = self._dead(msg.value(), msg.key(), msg.topic(), msg.partition(), msg.offset(),
                         stage, exc, detail)
        self._producer.produce(out.topic, key=out.key, value=out.value)

    def _binding(self) -> tuple[dict[str, Any], list[TopicPartition]]:
        """What a saved engine state is valid for (besides the offsets it covers), and the
        partitions whose offsets it covers."""
        meta = self._risk.list_topics(timeout=10)
        tps = [TopicPartition(t, p) for t in (self.settings.topic("risk"), self._health_topic)
               if t in meta.topics for p in sorted(meta.topics[t].partitions)]
        return {"cluster_id": meta.cluster_id or "", "backend": self.backend.name,
                "owned": self.settings.owned, "group": self.settings.actuator_group}, tps

    def _restore_state(self) -> None:
        """Apply the saved engine state if it fits this cluster; else keep it aside, warn and
        start fresh (stale state is never applied silently)."""
        if self.state_path is None:
            return
        binding, tps = self._binding()
        self._store = EngineStateStore(self.state_path, binding)
        # the state covers each partition from what the group had committed when it began
        self._offsets = {k: v or 0 for k, v in self._committed(tps).items()}
        old_json = self.state_path.with_suffix(".json")
        if old_json.exists():  # format of before: no binding, so nothing says it is current
            self._refuse(old_json, ["a JSON engine state from before states were bound to a "
                                    "cluster and offsets"], ".unbound")
        if not self.state_path.exists():
            return
        try:
            loaded = read(self.state_path)
            snapshot = loaded.snapshot()
            saved = [_partition(key) for key in loaded.offsets]
        except (OSError, ValueError, KeyError, TypeError, ContractError) as exc:
            self._refuse(self.state_path, [f"unreadable ({exc})"], ".unreadable")
            return
        ends = {f"{tp.topic}[{tp.partition}]": _retrying(
                    lambda tp=tp: self._risk.get_watermark_offsets(tp, timeout=10,
                                                                   cached=False))[1]
                for tp in saved}
        reasons = stale_reasons(loaded, binding, self._committed(saved), ends)
        if reasons:
            self._refuse(self.state_path, reasons, ".stale")
            return
        try:
            self.engine.restore(snapshot)
        except (ValueError, KeyError, TypeError, ContractError) as exc:
            self._refuse(self.state_path, [f"does not fit this engine ({exc})"], ".unreadable")
            return
        for key, offset in loaded.offsets.items():
            self._offsets[key] = max(offset, self._offsets.get(key, 0))
        self._store.compact(self.engine, self._offsets)
        log.info("engine state restored from %s: %d leases, offsets %s", self.state_path,
                 len(self.engine.leases()), loaded.offsets)

    def _committed(self, tps: list[TopicPartition]) -> dict[str, int | None]:
        """The group's committed offset of each partition (None: nothing committed). A group
        coordinator that is loading or moving (Apache Kafka, after a broker restart or a new
        group) answers NOT_COORDINATOR for a while: asked again for up to 30 s."""
        found = _retrying(lambda: self._risk.committed(tps, timeout=10)) if tps else []
        return {f"{tp.topic}[{tp.partition}]": tp.offset if tp.offset >= 0 else None
                for tp in found}

    def _refuse(self, path: Path, reasons: list[str], suffix: str) -> None:
        kept = path.with_suffix(path.suffix + suffix)
        path.replace(kept)
        self.state_refused = reasons
        self.metrics.state_refused.set(1)
        log.warning("engine state %s NOT applied: %s. Starting with no leases: allocations the "
                    "backend still holds from it are not tracked. Kept as %s", path,
                    "; ".join(reasons), kept)

    def save_state(self, parts: bool = True) -> None:
        """Append the offsets about to be committed and (with ``parts``) the parts of the
        engine's state that changed; bounded by what changed, not by the fleet."""
        if self._store is None:
            return
        for tp in self._risk.position(self._risk.assignment()):
            key = f"{tp.topic}[{tp.partition}]"
            if tp.offset > self._offsets.get(key, 0):
                self._offsets[key] = tp.offset
        self.metrics.state_bytes.inc(self._store.save(self.engine, self._offsets, parts))
        if parts:
            self._changed, self._saved_at = False, time.monotonic()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.poll_once()

    def close(self) -> None:
        self._producer.flush(10)
        self.save_state()
        if self._store is not None:
            self._store.close()
        for consumer in (self._risk, self._prefs):
            consumer.close()
        close_backend = getattr(self.backend, "close", None)  # a client's connections
        if callable(close_backend):
            close_backend()


def _partition(key: str) -> TopicPartition:
    """``topic[p]`` → its TopicPartition."""
    m = re.fullmatch(r"(.+)\[(\d+)\]", key)
    if m is None:
        raise ContractError(f"engine state: {key!r} is not topic[partition]")
    return TopicPartition(m.group(1), int(m.group(2)))


# Errors after which a commit is simply left to the next batch (or the redelivery).
COMMIT_AGAIN = frozenset({
    KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.REQUEST_TIMED_OUT,
    KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION,
    KafkaError.UNKNOWN_MEMBER_ID, KafkaError._TIMED_OUT, KafkaError._TRANSPORT,
    KafkaError._WAIT_COORD, KafkaError._NO_OFFSET,
})


def _retrying(call: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    """``call()``, asked again while it fails with a retriable Kafka error, up to ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return call()
        except KafkaException as exc:
            err = exc.args[0]
            retriable = err.retriable() or err.code() in COMMIT_AGAIN - {KafkaError._NO_OFFSET}
            if not retriable or time.monotonic() > deadline:
                raise
            log.info("asked again after %s", err)
            time.sleep(0.5)


def owned_globs(owned: str) -> tuple[str, ...]:
    """``FOREWARN_OWNED`` as globs; ``*`` (or nothing) owns everything."""
    return tuple(g.strip() for g in owned.split(",") if g.strip() and g.strip() != "*")


def ownership(owned: str) -> Callable[[str], bool]:
    """Whether a component id is owned: its host or the id itself matches a glob.

    Each actuator's engine keeps one pool per host, so the hosts of a fleet must be split
    between actuators, not shared; and risk of components it does not own never reaches its
    engine (their clocks and pools are another actuator's business).
    """
    globs = owned_globs(owned)
    if not globs:
        return lambda component: True
    return lambda component: any(
        fnmatch.fnmatchcase(host_of(component), g) or fnmatch.fnmatchcase(component, g)
        for g in globs
    )


# FOREWARN_BACKEND → the class, imported only when chosen (each pulls in its own client).
BACKENDS = {
    "dryrun": "actuators.backends.dryrun:DryRunBackend",
    "linux": "actuators.backends.linux:LinuxBackend",
    "kubernetes": "actuators.backends.kubernetes:KubernetesBackend",
    "aws": "actuators.backends.aws:AwsAutoScalingBackend",
}


def make_backend(settings: Settings) -> Backend:
    """The configured backend, built from ``backend_options`` and owning ``owned``."""
    if settings.backend == "simulator":
        raise ConfigError("backend 'simulator' runs only inside `forewarn run`, beside its "
                          f"simulated fleet; standalone backends: {', '.join(BACKENDS)}")
    if settings.backend not in BACKENDS:
        raise ConfigError(f"unknown backend {settings.backend!r}; known: {', '.join(BACKENDS)}")
    module, _, name = BACKENDS[settings.backend].partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except ImportError as exc:
        extra = {"kubernetes": "kubernetes", "aws": "aws"}.get(settings.backend)
        hint = f" (pip install 'forewarn[{extra}]')" if extra else ""
        raise ConfigError(f"backend {settings.backend!r} cannot load: {exc}{hint}") from exc
    options = settings.backend_options_map()
    hosts = owned_globs(settings.owned)
    if cls is DryRunBackend:
        if options:
            raise ConfigError(f"the dryrun backend takes no options, got {sorted(options)}")
        return DryRunBackend(hosts=hosts)
    backend: Backend = cls.from_options(options, hosts=hosts)
    return backend


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
