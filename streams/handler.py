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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from processors.pipeline import Output, Pipeline
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
        self.counters.messages += 1
        try:
            event_type, record = self.codec.decode(value, METRIC_EVENTS)
        except ContractError as exc:
            return [self.dead_letter(value, key, topic, partition, offset, "decode", exc)]
        samples = batch_to_samples(record) if event_type == "MetricBatch" else [record]
        out: list[Out] = []
        bounds, now = self.time_bounds, 0
        if bounds is not None:
            now = self.wall_clock_ms()
        for sample in samples:
            self.counters.samples += 1
            if bounds is not None:
                why = bounds.reason(sample.get("ts"), now)
                if why:
                    detail = f"{why} (component {str(sample.get('component'))[:200]!r})"
                    out.append(self.dead_letter(value, key, topic, partition, offset, "time",
                                                detail=detail))
                    continue
            try:
                result = self.pipeline.ingest(sample)
            except Exception as exc:  # a bug must not stop the worker: keep the message
                log.exception("pipeline failed on %s[%d]@%d", topic, partition, offset)
                out.append(self.dead_letter(value, key, topic, partition, offset, "process", exc))
                continue
            out.extend(self._encode(result, value, key, topic, partition, offset))
        return out

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
