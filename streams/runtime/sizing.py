"""``forewarn actuate --sizing POLICY``: right-sizing live, the same code as ``backtest trace``.

A confluent-kafka consumer (group ``<actuator_group>-sizing``) over ``forewarn.metrics`` and
``forewarn.risk``: each ``MetricSample`` goes to :class:`actuators.rightsize.RightSizing`
(demand ``cpu.used_mhz`` / ``mem.used_kb`` and the provisioned ``cpu.capacity_mhz`` /
``mem.capacity_kb``), each ``RiskScore`` to its ``on_risk``; every command it returns is
written to ``forewarn.allocations``, applied by the backend, and its outcome written to
``forewarn.outcomes``. A message no codec reads is dead-lettered with its reason. Offsets are
committed after the producer has flushed what a batch caused (at-least-once; backends are
idempotent by ``command_id``). Metrics and risk of one component share its partition key, so
one component's events keep their order within each topic.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer

from actuators.backends.base import Backend
from actuators.rightsize import RightSizing
from schemas.codec import Codec
from schemas.errors import BrokerError, ContractError
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

    def __init__(self, settings: Settings, backend: Backend, sizing: RightSizing) -> None:
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
            out = self._dead(msg.value(), msg.key(), msg.topic(), msg.partition(), msg.offset(),
                             "decode", exc, "")
            self._producer.produce(out.topic, key=out.key, value=out.value)
            return None

    def _dispatch(self, commands: list[dict[str, Any]]) -> None:
        for command in commands:
            self._send("allocations", "AllocationCommand", command)
            self._send("outcomes", "AllocationOutcome", self.backend.apply(command))
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


def run_sizing(settings: Settings, backend: Backend, policy: str, knob: float | None,
               delay_s: int, step_s: int) -> None:
    """Run until SIGINT/SIGTERM."""
    import signal

    from streams.topics import ensure_topics

    ensure_topics(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    act = SizingActuator(settings, backend, RightSizing(policy, knob, delay_s=delay_s,
                                                        step_s=step_s))
    log.info("right-sizing up: policy %s, knob %s, backend %s", policy,
             act.sizing.knob, backend.name)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            act.run(stop)
    finally:
        act.close()
