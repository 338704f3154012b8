"""A replay source: a range of a Kafka topic (by offsets or event time), merged across
partitions by ``(timestamp, key, partition)`` (:func:`topic_messages`); ``forewarn replay
--topic``. The rest of the replay is ``streams/lab/replay.py``."""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from schemas.errors import BrokerError
from streams.lab.message import Message

if TYPE_CHECKING:
    from streams.settings import Settings


@dataclass(frozen=True)
class TopicRange:
    """Which messages of ``topic`` to replay, per partition: from ``start_ms`` (the first
    message whose timestamp is at or after it, as ``offsets_for_times`` defines) and/or an
    explicit start offset, up to the first message at or after ``end_ms`` and/or an explicit
    end offset (exclusive). Offsets are ``{partition: offset}``; key ``-1`` is every partition.
    """

    topic: str
    start_ms: int | None = None
    end_ms: int | None = None
    start_offsets: Mapping[int, int] | None = None
    end_offsets: Mapping[int, int] | None = None


_NO_END = 2**63 - 1


def plan_range(consumer: Any, r: TopicRange, timeout_s: float) -> dict[int, tuple[int, int]]:
    """``{partition: (start, end)}``: where to seek, and the explicit end (or no end yet)."""
    from confluent_kafka import TopicPartition

    meta = consumer.list_topics(r.topic, timeout=timeout_s).topics.get(r.topic)
    if meta is None or meta.error is not None or not meta.partitions:
        why = getattr(meta, "error", None) or "no such topic"
        raise BrokerError(f"topic {r.topic!r} cannot be replayed: {why}")
    plan = {}
    for p in sorted(meta.partitions):
        tp = TopicPartition(r.topic, p)
        start = consumer.get_watermark_offsets(tp, timeout=timeout_s, cached=False)[0]
        if r.start_ms is not None:
            got = consumer.offsets_for_times([TopicPartition(r.topic, p, r.start_ms)],
                                             timeout=timeout_s)[0]
            if got.error is not None:
                raise BrokerError(f"{r.topic}[{p}]: offsets_for_times({r.start_ms}): {got.error}")
            if got.offset >= 0:
                start = max(start, int(got.offset))
        given, end = _for(r.start_offsets, p), _for(r.end_offsets, p)
        plan[p] = (start if given is None else max(start, given), _NO_END if end is None else end)
    return plan


def _for(offsets: Mapping[int, int] | None, partition: int) -> int | None:
    if not offsets:
        return None
    return offsets.get(partition, offsets.get(-1))


def topic_messages(
    settings: Settings, r: TopicRange, *, timeout_s: float = 30.0, buffer: int = 5000
) -> Iterator[Message]:
    """The range's messages, merged across partitions by ``(timestamp, key, partition)``.

    An assigned consumer (no group membership, nothing committed) reads each partition up to
    the high watermark of its first fetch, so messages produced meanwhile are not replayed.
    Brokers may answer ``offsets_for_times`` and ``ListOffsets`` coarsely (Tansu answers per
    batch), so the start is refined and the end found message by message. Apache Kafka answers
    both exactly, and the refinement then skips nothing: the same code is right on both
    (tests/integration/test_replay_topic.py runs on each)."""
    from confluent_kafka import Consumer, TopicPartition

    from streams.topics import consumer_config

    extra = {"enable.partition.eof": True, "enable.auto.offset.store": False}
    consumer = Consumer(consumer_config(settings, f"forewarn-replay-{uuid.uuid4().hex[:8]}", extra))
    try:
        plan = {p: se for p, se in plan_range(consumer, r, timeout_s).items() if se[0] < se[1]}
        if not plan:
            return
        consumer.assign([TopicPartition(r.topic, p, s) for p, (s, _) in plan.items()])
        merge = _Merge(consumer, r, plan, buffer)
        quiet_since = time.monotonic()
        while True:
            waiting = [p for p in merge.reading if not merge.queues[p]]
            if not waiting:
                p = merge.head()
                if p is None:
                    return
                yield merge.queues[p].popleft()
                merge.popped(p)
                continue
            msgs = consumer.consume(1000, 0.5)
            for m in msgs:
                merge.take(m)
            if msgs:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > timeout_s:
                where = ", ".join(f"{r.topic}[{p}]" for p in sorted(waiting))
                raise BrokerError(f"replay stalled: nothing for {timeout_s:.0f} s from {where}")
    finally:
        consumer.close()


class _Merge:
    """What :func:`topic_messages` holds per partition: the messages fetched and not yet
    merged, where each partition ends (fixed at its first fetch), which are still read,
    have reached the range's start, or are paused (``buffer`` messages waiting)."""

    def __init__(self, consumer: Any, r: TopicRange, plan: Mapping[int, tuple[int, int]],
                 buffer: int) -> None:
        self.consumer, self.r, self.plan, self.buffer = consumer, r, plan, buffer
        self.queues: dict[int, deque[Message]] = {p: deque() for p in plan}
        self.ends: dict[int, int] = {}
        self.reading: set[int] = set(plan)
        self.started: set[int] = set()
        self.paused: set[int] = set()

    def head(self) -> int | None:
        """The partition whose next message comes first, None when all are drained."""
        heads = [(q[0].timestamp_ms, q[0].key or b"", p) for p, q in self.queues.items() if q]
        return min(heads)[2] if heads else None

    def popped(self, p: int) -> None:
        from confluent_kafka import TopicPartition

        if p in self.paused and len(self.queues[p]) < self.buffer // 2:
            self.consumer.resume([TopicPartition(self.r.topic, p)])
            self.paused.discard(p)

    def take(self, m: Any) -> None:
        """Queue one fetched message if it lies in the range; mark its partition done at the
        end (offset, time or high watermark)."""
        from confluent_kafka import KafkaError, TopicPartition

        r = self.r
        err, p = m.error(), cast(int, m.partition())
        if err is not None and err.code() != KafkaError._PARTITION_EOF:
            raise BrokerError(f"{r.topic}[{p}]: {err}")
        if p not in self.reading:
            return
        if p not in self.ends:
            tp = TopicPartition(r.topic, p)
            high = self.consumer.get_watermark_offsets(tp, cached=True)[1]
            self.ends[p] = min(self.plan[p][1], high if high >= 0 else _NO_END)
        if err is not None:  # at the high watermark: nothing more before the end
            self.reading.discard(p)
            return
        ts, off = m.timestamp()[1], cast(int, m.offset())
        if off >= self.ends[p] or (r.end_ms is not None and ts >= r.end_ms):
            self.reading.discard(p)
            return
        if p not in self.started and off >= self.plan[p][0]:
            if r.start_ms is None or ts >= r.start_ms:
                self.started.add(p)
        if p in self.started:
            self.queues[p].append(Message(m.value(), m.key(), r.topic, p, off, ts))
        if off + 1 >= self.ends[p]:
            self.reading.discard(p)
        if len(self.queues[p]) >= self.buffer and p not in self.paused:
            self.consumer.pause([TopicPartition(r.topic, p)])
            self.paused.add(p)
