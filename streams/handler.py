"""Bytes in, bytes out: the one place where metric messages meet the processing core.

The Faust agent, the replay and the benchmarks all call :class:`MetricsHandler.handle` with a
message's raw value and position, and get back the messages to produce. Nothing here talks to
Kafka, so a replay of the same messages gives the same output, byte for byte.

A message no codec can read, a sample the pipeline rejects (late, unusable) and an exception
inside the pipeline each become a ``DeadLetter`` with the reason; the handler never raises on
one message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from processors.batch.pipeline import Admitted, BatchPipeline
from processors.pipeline import Output, Pipeline
from schemas.batchwire import read_columns
from schemas.codec import Codec
from schemas.errors import ContractError

log = logging.getLogger(__name__)

METRIC_EVENTS = ("MetricSample", "MetricBatch")
# A dead letter keeps at most this much of the original message (with its size and offset in
# the reason), so one too large to dead-letter whole (1 MB on a topic whose broker takes 1 MB)
# is still dead-lettered; the key and the reason are bounded likewise.
MAX_ORIGINAL_BYTES = 64 * 1024
MAX_KEY_BYTES = 1024
MAX_REASON_CHARS = 2000


@dataclass(frozen=True)
class TimeBounds:
    """Event time a live worker takes, against its wall clock: a sample stamped more than
    ``future_s`` ahead or ``past_s`` behind is dead-lettered alone (stage ``time``). Replays
    and benchmarks run without bounds, so their output stays a function of their input."""

    future_s: int = 3600
    past_s: int = 30 * 86_400

    def reason(self, ts: object, now_ms: int) -> str:
        if type(ts) is not int:
            return ""  # the pipeline says what is wrong with it
        if ts > now_ms + self.future_s * 1000:
            return (f"time: ts {ts} is {(ts - now_ms) // 1000} s ahead of the wall clock "
                    f"({now_ms}), over {self.future_s} s")
        if ts < now_ms - self.past_s * 1000:
            return (f"time: ts {ts} is {(now_ms - ts) // 1000} s behind the wall clock "
                    f"({now_ms}), over {self.past_s} s")
        return ""


class Polled(Protocol):
    """A source message as :meth:`MetricsHandler.handle_batch` reads it (Faust's, a replay's)."""

    @property
    def value(self) -> bytes | None: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...


@dataclass(frozen=True)
class Out:
    """One message to produce: catalog topic name (``risk``), key and encoded value."""

    topic: str
    key: bytes
    value: bytes


@dataclass
class Counters:
    messages: int = 0
    samples: int = 0
    health: int = 0
    risk: int = 0
    dead: dict[str, int] = field(default_factory=dict)


def batch_to_samples(batch: dict[str, Any]) -> list[dict[str, Any]]:
    """The MetricSample dicts a MetricBatch carries."""
    return [
        {
            "component": batch["component"],
            "host": batch["host"],
            "ts": p["ts"],
            "metrics": p["metrics"],
            "tags": batch.get("tags") or {},
        }
        for p in batch["points"]
    ]


class MetricsHandler:
    """Decode a metrics message, run the pipeline, encode what it emits."""

    def __init__(
        self,
        pipeline: Pipeline,
        codec: Codec,
        topic_name: Callable[[str], str] = lambda name: name,
        wall_clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        time_bounds: TimeBounds | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.codec = codec
        self.topic_name = topic_name
        self.time_bounds = time_bounds
        self.wall_clock_ms = wall_clock_ms
        # Only the dead-letter timestamp reads the wall clock; replays pass a fixed clock.
        self.dead_letters = DeadLetters(codec, topic_name, wall_clock_ms)
        self.counters = Counters()

    def handle(
        self, value: bytes | None, key: bytes | None, topic: str, partition: int, offset: int
    ) -> list[Out]:
        out: list[Out] = []
        for got in self.samples(value, key, topic, partition, offset):
            if isinstance(got, Out):
                out.append(got)
                continue
            try:
                result = self.pipeline.ingest(got)
            except Exception as exc:  # a bug must not stop the worker: keep the message
                out.append(self.failed(exc, value, key, topic, partition, offset))
                continue
            out.extend(self._encode(result, value, key, topic, partition, offset))
        return out

    def handle_batch(
        self, messages: Sequence[Polled], at: Callable[[int, int], object] | None = None,
        after: Callable[[], object] | None = None,
    ) -> list[list[Out]]:
        """:meth:`handle` on each message in order, through the pipeline's batch API
        (:class:`processors.batch.pipeline.BatchPipeline`: every sample admitted, the windows
        closed computed together, then every sample judged): each message's outputs, the
        same as :meth:`handle` gives, bit for bit. ``at(partition, offset)`` is called before
        a message's samples are admitted, ``after()`` once they are (the worker's checkpoint
        bookkeeping). A sample on which the pipeline raises is dead-lettered alone."""
        pipeline = self.pipeline
        if not isinstance(pipeline, BatchPipeline):
            raise TypeError(f"handle_batch needs a BatchPipeline, not {type(pipeline)}")
        read: list[list[dict[str, Any] | Out]] = []
        admitted: list[Admitted | Output | BaseException] = []
        for m in messages:
            if at is not None:
                at(m.partition, m.offset)
            items = self.samples(m.value, m.key, m.topic, m.partition, m.offset)
            for item in items:
                if not isinstance(item, Out):
                    try:
                        admitted.append(pipeline.admit(item))
                    except Exception as exc:  # a bug must not stop the worker
                        admitted.append(exc)
            read.append(items)
            if after is not None:
                after()
        judged = iter(pipeline.judge_each(admitted))
        outs: list[list[Out]] = []
        for m, items in zip(messages, read, strict=True):
            where = (m.value, m.key, m.topic, m.partition, m.offset)
            mine: list[Out] = []
            for item in items:
                got = item if isinstance(item, Out) else next(judged)
                if isinstance(got, Out):
                    mine.append(got)
                elif isinstance(got, BaseException):
                    mine.append(self.failed(got, *where))
                elif got.health or got.risk or got.rejected:  # most samples give none (s27)
                    mine += self._encode(got, *where)
            outs.append(mine)
        return outs

    def samples(
        self, value: bytes | None, key: bytes | None, topic: str, partition: int, offset: int
    ) -> list[dict[str, Any] | Out]:
        """The message read: its samples in order, a sample outside the time bounds replaced
        by its dead letter (the message's one dead letter if it cannot be decoded); counted.
        A ``MetricBatch`` of the usual layout is read by :func:`schemas.batchwire.read_columns`
        (the same dicts as fastavro's, fewer Python objects on the way)."""
        self.counters.messages += 1
        cols = read_columns(self.codec, value)
        if cols is not None:
            samples = cols.samples()
        else:
            try:
                event_type, record = self.codec.decode(value, METRIC_EVENTS)
            except ContractError as exc:
                return [self.dead_letter(value, key, topic, partition, offset, "decode", exc)]
            samples = batch_to_samples(record) if event_type == "MetricBatch" else [record]
        self.counters.samples += len(samples)
        bounds = self.time_bounds
        if bounds is None:
            return list(samples)
        now = self.wall_clock_ms()
        out: list[dict[str, Any] | Out] = []
        for sample in samples:
            why = bounds.reason(sample.get("ts"), now)
            if why:
                detail = f"{why} (component {str(sample.get('component'))[:200]!r})"
                out.append(self.dead_letter(value, key, topic, partition, offset, "time",
                                            detail=detail))
            else:
                out.append(sample)
        return out

    def failed(self, exc: BaseException, value: bytes | None, key: bytes | None, topic: str,
               partition: int, offset: int) -> Out:
        """The dead letter of a sample on which the pipeline raised (stage ``process``)."""
        log.error("pipeline failed on %s[%d]@%d", topic, partition, offset, exc_info=exc)
        return self.dead_letter(value, key, topic, partition, offset, "process", exc)

    def flush(self) -> list[Out]:
        """Close every open window (the end of a replay)."""
        return self._encode(self.pipeline.flush(), None, None, "", -1, -1)

    def _encode(
        self,
        result: Output,
        value: bytes | None,
        key: bytes | None,
        topic: str,
        partition: int,
        offset: int,
    ) -> list[Out]:
        out: list[Out] = []
        for signal in result.health:
            self.counters.health += 1
            out.append(self._out("health", "HealthSignal", signal))
        for risk in result.risk:
            self.counters.risk += 1
            out.append(self._out("risk", "RiskScore", risk))
        for sample, reason in result.rejected:
            stage = ("late" if reason.startswith("late") else
                     "time" if reason.startswith("time") else "validate")
            comp = sample.get("component")
            if isinstance(comp, str) and len(comp) > 200:
                comp = comp[:200] + "..."
            detail = f"{reason} (component {comp!r}, ts {str(sample.get('ts'))[:40]})"
            out.append(
                self.dead_letter(value, key, topic, partition, offset, stage, detail=detail)
            )
        return out

    def _out(self, name: str, event_type: str, record: dict[str, Any]) -> Out:
        full = self.topic_name(name)
        value = self.codec.encode(event_type, record, topic=full)
        return Out(full, str(record["component"]).encode(), value)

    def dead_letter(self, *where: Any, **why: Any) -> Out:
        """A counted :class:`DeadLetters` record; arguments as :meth:`DeadLetters.__call__`."""
        stage = str(where[5])
        self.counters.dead[stage] = self.counters.dead.get(stage, 0) + 1
        return self.dead_letters(*where, **why)


class DeadLetters:
    """Encodes a ``DeadLetter`` for a message that could not be used: where it came from, why,
    and its original bytes, so nothing is lost."""

    def __init__(
        self,
        codec: Codec,
        topic_name: Callable[[str], str],
        wall_clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.codec = codec
        self.topic = topic_name("deadletter")
        self.wall_clock_ms = wall_clock_ms
        self.logged: dict[str, int] = {}

    def __call__(
        self,
        value: bytes | None,
        key: bytes | None,
        topic: str,
        partition: int,
        offset: int,
        stage: str,
        exc: BaseException | None = None,
        detail: str = "",
    ) -> Out:
        reason = detail or f"{exc}"
        if len(reason) > MAX_REASON_CHARS:
            reason = f"{reason[:MAX_REASON_CHARS]}... ({len(reason)} chars)"
        where = f"{topic}[{partition}]@{offset}"
        original = value or b""
        if len(original) > MAX_ORIGINAL_BYTES:
            reason += (f"; original truncated: its first {MAX_ORIGINAL_BYTES} of "
                       f"{len(original)} bytes kept (whole at {where})")
            original = original[:MAX_ORIGINAL_BYTES]
        if key is not None and len(key) > MAX_KEY_BYTES:
            reason += f"; key truncated to {MAX_KEY_BYTES} of {len(key)} bytes"
            key = key[:MAX_KEY_BYTES]
        n = self.logged[stage] = self.logged.get(stage, 0) + 1
        if n <= 20 or n % 1000 == 0:  # a flood of bad input must not become a flood of logs
            log.warning("dead-letter %s (%s, #%d of this stage): %s", where, stage, n,
                        reason[:300])
        record = {
            "source_topic": topic,
            "partition": partition,
            "offset": offset,
            "ts": self.wall_clock_ms(),
            "reason": f"{where}: {reason}",
            "error": type(exc).__name__ if exc is not None else "Rejected",
            "stage": stage,
            "key": key,
            "original": original,
        }
        encoded = self.codec.encode("DeadLetter", record, topic=self.topic)
        return Out(self.topic, key or b"", encoded)
