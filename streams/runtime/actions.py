"""What the actuators did, fed back to the worker's models: acted intervals per component.

A worker must not learn "no breach followed" from windows during which forewarn acted on the
component (the action may be why no breach came). :class:`ActionFeed` reads the allocation
commands on ``forewarn.allocations`` — every partition, by assignment, from the end, never
committed — and tells the worker's pipeline (:meth:`processors.pipeline.Pipeline.on_action`)
when a lease began (a GRANT, a scale-down included) and ended (RELEASE or PREEMPT). It is
drained on the worker's event loop, between messages, so the pipeline is never touched from
two threads. Only components whose state this worker holds are told; the actions of a
component whose partition moves while a lease is open are lost to the new worker until the
next command (a limit named in the README).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from confluent_kafka import OFFSET_END, Consumer, KafkaError, TopicPartition

from processors.pipeline import Pipeline
from schemas.codec import Codec
from schemas.errors import ContractError
from streams.settings import Settings
from streams.topics import consumer_config

log = logging.getLogger(__name__)

STARTS = ("GRANT",)
ENDS = ("RELEASE", "PREEMPT")


class ActionTracker:
    """Pure: AllocationCommand records in, ``on_action`` calls on a pipeline out.

    A component's interval opens at its first GRANT and stays open through renewals and step
    downs (more GRANTs); a RELEASE or PREEMPT closes it. ``known`` limits it to components the
    pipeline holds (None: all).
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.open: dict[str, int] = {}  # component -> start ms of its open interval
        self.told = 0

    def on_command(self, command: dict[str, Any], known: set[str] | None = None) -> None:
        component, ts, action = str(command["component"]), int(command["ts"]), command["action"]
        if known is not None and component not in known:
            return
        if action in STARTS and component not in self.open:
            self.open[component] = ts
            self.pipeline.on_action(component, ts, None)
            self.told += 1
        elif action in ENDS and component in self.open:
            self.pipeline.on_action(component, self.open.pop(component), ts)
            self.told += 1


class ActionFeed:
    """The allocation commands topic, drained without blocking into an :class:`ActionTracker`."""

    def __init__(self, settings: Settings, pipeline: Pipeline, codec: Codec,
                 every_s: float = 0.2) -> None:
        self.tracker = ActionTracker(pipeline)
        self.codec = codec
        self.every_s = every_s
        self._last = 0.0
        topic = settings.topic("allocations")
        # operators' verdicts on alarms (POST /v1/feedback) come the same way: they label the
        # window they judge (Pipeline.on_feedback)
        self.feedback_topic = settings.topic("feedback")
        self.feedback_learnt = 0
        self.consumer = Consumer(consumer_config(
            settings, f"{settings.worker_group}-actions-{uuid.uuid4().hex[:8]}"))
        assigned = []
        for name in (topic, self.feedback_topic):
            meta = self.consumer.list_topics(name, timeout=10)
            parts = meta.topics[name].partitions if name in meta.topics else {}
            assigned += [TopicPartition(name, p, OFFSET_END) for p in parts]
        self.consumer.assign(assigned)

    def drain(self) -> int:
        """Read what has arrived (at most every ``every_s``); the commands handled."""
        now = time.monotonic()
        if now - self._last < self.every_s:
            return 0
        self._last = now
        msgs = self.consumer.consume(500, 0)
        if not msgs:
            return 0
        known = set(self.tracker.pipeline.components())
        handled = 0
        for msg in msgs:
            err = msg.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("action feed: %s", err)
                continue
            if msg.topic() == self.feedback_topic:
                handled += self._feedback(msg, known)
                continue
            try:
                _, command = self.codec.decode(msg.value(), ("AllocationCommand",))
            except ContractError as exc:  # the actuator wrote it; the dead letters are theirs
                log.warning("action feed: unreadable command at %s: %s", msg.offset(), exc)
                continue
            self.tracker.on_command(command, known)
            handled += 1
        return handled

    def _feedback(self, msg: Any, known: set[str]) -> int:
        try:
            _, fb = self.codec.decode(msg.value(), ("Feedback",))
        except ContractError as exc:  # the API wrote it; skipped, said once here
            log.warning("action feed: unreadable feedback at %s: %s", msg.offset(), exc)
            return 0
        if fb["component"] not in known:
            return 0
        pipeline = self.tracker.pipeline
        if pipeline.on_feedback(fb["component"], fb["ts"], fb["verdict"] == "TRUE_POSITIVE"):
            self.feedback_learnt += 1
        return 1

    def close(self) -> None:
        self.consumer.close()
