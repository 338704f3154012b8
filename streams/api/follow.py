"""Follow topics without a consumer group: every partition assigned, from the start or the end,
and topics or partitions that appear later are picked up (metadata is checked again every few
seconds). Used by the API's read model and by ``forewarn tail``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, Message
from confluent_kafka import TopicPartition as TP

from streams.settings import Settings
from streams.topics import consumer_config

log = logging.getLogger(__name__)
RECHECK_S = 3.0


class Follower:
    """Reads ``topics`` (full names) from every partition; never commits."""

    def __init__(self, settings: Settings, topics: Sequence[str], *, from_beginning: bool = True,
                 recheck_s: float = RECHECK_S, extra: dict[str, Any] | None = None) -> None:
        self.topics = tuple(topics)
        self.start = OFFSET_BEGINNING if from_beginning else OFFSET_END
        self.recheck_s = recheck_s
        conf = consumer_config(settings, f"forewarn-follow-{uuid.uuid4().hex[:8]}", {
            "enable.partition.eof": False,
            "fetch.wait.max.ms": 100,
            # a follower reads for people: librdkafka's reconnect chatter goes to our log,
            # at debug level, instead of stderr
            "logger": _quiet_logger,
            **(extra or {}),
        })
        self.consumer = Consumer(conf)
        self.assigned: set[tuple[str, int]] = set()
        self._checked = 0.0
        self.refresh()

    def refresh(self) -> list[tuple[str, int]]:
        """Assign partitions not yet assigned (new topics, new partitions); those added."""
        self._checked = time.monotonic()
        try:
            meta = self.consumer.list_topics(timeout=5)
        except Exception as exc:  # KafkaException: the broker is away; try again later
            log.debug("metadata: %s", exc)
            return []
        new = []
        for topic in self.topics:
            tmeta = meta.topics.get(topic)
            if tmeta is None or tmeta.error is not None:
                continue
            for p in tmeta.partitions:
                if (topic, p) not in self.assigned:
                    new.append((topic, p))
        if new:
            self.assigned.update(new)
            self.consumer.incremental_assign([TP(t, p, self.start) for t, p in new])
        return new

    def poll(self, timeout_s: float = 0.5, max_messages: int = 1000) -> list[Message]:
        """Messages read (errors dropped), after a metadata check when one is due."""
        if time.monotonic() - self._checked >= self.recheck_s:
            self.refresh()
        out = []
        for msg in self.consumer.consume(max_messages, timeout_s):
            err = msg.error()
            if err is None:
                out.append(msg)
            elif err.code() != KafkaError._PARTITION_EOF:
                log.debug("consumer error on %s: %s", msg.topic(), err)
        return out

    def messages(self, idle_s: float = 0.5) -> Iterator[Message]:
        while True:
            yield from self.poll(idle_s)

    def close(self) -> None:
        self.consumer.close()


_rdkafka_log = logging.getLogger("forewarn.librdkafka")


def _quiet_logger_emit(record: logging.LogRecord) -> None:
    _rdkafka_log.debug("%s", record.getMessage())


class _QuietLogger(logging.Logger):
    """A logger object librdkafka can log to: everything lands at debug level."""

    def handle(self, record: logging.LogRecord) -> None:
        _quiet_logger_emit(record)


_quiet_logger = _QuietLogger("forewarn.librdkafka.quiet")
