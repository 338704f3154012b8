"""Restoring model state when the group hands a worker partitions: :class:`CheckpointStore`
reads ``forewarn.checkpoints`` and the source partitions, :class:`Restorer` puts each assigned
partition's latest checkpoints into the :class:`~streams.runtime.checkpoint.CheckpointedPipeline`
and replays the gap up to the committed offset with outputs suppressed (see
``streams/runtime/checkpoint.py`` for the format and when checkpoints are written)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from schemas.codec import Codec
from schemas.errors import BrokerError, ContractError
from streams.handler import METRIC_EVENTS, batch_to_samples
from streams.runtime.checkpoint import Checkpoint, CheckpointedPipeline, decode
from streams.settings import Settings
from streams.topics import consumer_config

log = logging.getLogger(__name__)


class CheckpointStore:
    """Reads the checkpoints topic, the group's committed offsets and the source topic's gaps
    (confluent-kafka, by assignment: it never joins the group nor commits). Blocking: the
    worker calls it from a thread."""

    def __init__(self, settings: Settings, timeout_s: float = 30.0) -> None:
        self.topic = settings.topic("checkpoints")
        self.source = settings.topic("metrics")
        self.timeout_s = timeout_s
        # the worker group's id lets committed() read its offsets; nothing here commits
        self.consumer = Consumer(
            consumer_config(settings, settings.worker_group,
                            {"enable.auto.offset.store": False, "enable.partition.eof": True})
        )

    def partitions(self) -> int:
        try:
            meta = self.consumer.list_topics(self.topic, timeout=self.timeout_s).topics[self.topic]
        except KafkaException as exc:
            raise BrokerError(f"cannot list {self.topic}: {exc}") from exc
        if meta.error is not None or not meta.partitions:
            raise BrokerError(f"topic {self.topic} is missing: {meta.error}; run forewarn topics")
        return len(meta.partitions)

    def committed(self, partitions: set[int]) -> dict[int, int]:
        """The group's committed offset per source partition (its start when none)."""
        tps = [TopicPartition(self.source, p) for p in sorted(partitions)]
        out: dict[int, int] = {}
        try:
            for tp in self.consumer.committed(tps, timeout=self.timeout_s):
                if tp.offset >= 0:
                    out[tp.partition] = tp.offset
                else:
                    lo, _ = self.consumer.get_watermark_offsets(tp, timeout=self.timeout_s)
                    out[tp.partition] = lo
        except KafkaException as exc:
            raise BrokerError(f"committed offsets of {self.source}: {exc}") from exc
        return out

    def latest(self, partition: int, n_partitions: int) -> dict[str, tuple[Checkpoint, bytes]]:
        """The latest checkpoint of each component of source ``partition``."""
        q = partition % n_partitions
        out: dict[str, tuple[Checkpoint, bytes]] = {}
        for msg in self._read(self.topic, q, None, None):
            key = (msg.key() or b"").decode("utf-8", "replace")
            value = msg.value()
            if value is None:
                out.pop(key, None)  # tombstone
                continue
            try:
                ck = decode(value, f"{self.topic}[{q}]@{msg.offset()}")
            except ContractError as exc:
                log.warning("%s: skipped", exc)
                continue
            if ck.topic == self.source and ck.partition == partition:
                out[ck.component] = (ck, value)
        return out

    def messages(self, partition: int, start: int, end: int) -> Iterator[Message]:
        """Source messages ``start <= offset < end`` of ``partition``."""
        return self._read(self.source, partition, start, end)

    def _read(self, topic: str, partition: int, start: int | None, end: int | None
              ) -> Iterator[Message]:
        """``topic[partition]`` from ``start`` (the beginning when None) up to ``end``
        (exclusive; the partition's end when None). The end is librdkafka's EOF, taken from
        fetch responses: Tansu answers ListOffsets(latest) with a high watermark that lags.
        Apache Kafka answers ListOffsets exactly; the EOF is exact on both, so one path serves
        both brokers (tests/integration/test_checkpoint.py runs on each)."""
        if start is not None and end is not None and start >= end:
            return
        c = self.consumer
        c.assign([TopicPartition(topic, partition, OFFSET_BEGINNING if start is None else start)])
        deadline = time.monotonic() + self.timeout_s
        try:
            while True:
                msgs = c.consume(500, 0.5)
                for m in msgs:
                    err = m.error()
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            return
                        raise BrokerError(f"{topic}[{partition}]: {err}")
                    offset = cast(int, m.offset())  # a consumed message has one
                    if end is not None and offset >= end:
                        return
                    yield m
                    if end is not None and offset >= end - 1:
                        return
                if msgs:
                    deadline = time.monotonic() + self.timeout_s
                elif time.monotonic() > deadline:
                    raise BrokerError(f"{topic}[{partition}]: nothing for {self.timeout_s} s "
                                      f"reading from offset {start} to {end}")
        finally:
            c.unassign()

    def close(self) -> None:
        self.consumer.close()


@dataclass
class RestoreStats:
    kept: int = 0  # partitions whose in-memory state was current
    dropped: int = 0  # components dropped (partition gone or stale)
    restored: int = 0  # components restored from a checkpoint
    replayed: int = 0  # source messages replayed with outputs suppressed
    failed: int = 0  # partitions that start cold: their checkpoints could not be read
    partitions: list[int] = field(default_factory=list)  # the assignment


class Restorer:
    """Brings a :class:`CheckpointedPipeline` in line with a new assignment (see the module
    docstring); blocking, run in a thread while Faust holds the partitions paused."""

    def __init__(self, pipeline: CheckpointedPipeline, store: CheckpointStore, codec: Codec
                 ) -> None:
        self.pipeline = pipeline
        self.store = store
        self.codec = codec
        self.n_partitions = 0  # of the checkpoints topic, once known

    def sync(self, assigned: set[int]) -> RestoreStats:
        """Keep, restore or drop state so that it matches ``assigned``. A partition whose
        checkpoints cannot be read starts cold (logged); BrokerError when even the committed
        offsets cannot be read."""
        pipe, stats = self.pipeline, RestoreStats(partitions=sorted(assigned))
        if not self.n_partitions:
            self.n_partitions = self.store.partitions()
        held = set(pipe.positions) | {m.partition for m in pipe.marks.values()}
        for p in held - assigned:
            stats.dropped += pipe.forget_partition(p)
        committed = self.store.committed(assigned) if assigned else {}
        for p in sorted(assigned):
            g = committed[p]
            if pipe.positions.get(p) == g:
                stats.kept += 1
                continue
            stats.dropped += pipe.forget_partition(p)
            try:
                self._restore(p, g, stats)
            except BrokerError as exc:
                log.error("partition %d starts cold: %s", p, exc)
                stats.failed += 1
                pipe.forget_partition(p)
            pipe.positions[p] = g
            pipe.skip_below = {c: o for c, o in pipe.skip_below.items() if o > g}
        return stats

    def _restore(self, p: int, g: int, stats: RestoreStats) -> None:
        starts = []
        cap = self.pipeline.max_components
        # most recently checkpointed first: over max_components, the rest start cold (as an
        # evicted component does), so a flood's checkpoints never fill a new owner's memory
        found = sorted(self.store.latest(p, self.n_partitions).values(),
                       key=lambda cv: (-cv[0].offset, cv[0].component))
        for ck, value in found:
            if cap and len(self.pipeline.marks) >= cap:
                stats.dropped += 1
                continue
            if self.pipeline.restore_checkpoint(ck, value):
                stats.restored += 1
                starts.append(ck.offset)
        if starts and min(starts) < g:
            stats.replayed += self.replay(p, min(starts), g)

    def replay(self, partition: int, start: int, end: int) -> int:
        """Feed source messages ``start..end-1`` to the pipeline, discarding what it emits."""
        pipe, n = self.pipeline, 0
        for msg in self.store.messages(partition, start, end):
            pipe.at(partition, cast(int, msg.offset()))
            n += 1
            try:
                kind, rec = self.codec.decode(msg.value(), METRIC_EVENTS)
            except ContractError:
                continue  # dead-lettered when it was first read
            for sample in batch_to_samples(rec) if kind == "MetricBatch" else [rec]:
                try:
                    pipe.ingest(sample)
                except Exception:  # as in the handler: a pipeline bug must not stop a worker
                    log.exception("replay of %s[%d]@%d failed", self.store.source, partition,
                                  msg.offset())
        return n
