"""The shipper's pure half: ``MetricBatch`` messages built from samples encoded once, and the
bounded buffer that keeps samples until the broker acknowledges them. No Kafka here."""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from heapq import merge

from schemas.avrofast import zigzag_long
from schemas.codec import Codec
from schemas.errors import ConfigError

# -------------------------------------------------------------------------- wire format


class BatchAssembler:
    """Builds ``MetricBatch`` messages from points encoded one by one.

    In Avro a record's fields are concatenated and ``points`` is the last field, an array
    written as ``count, items..., 0``; so a batch is the codec's encoding of the batch with
    no points, less its final 0, then the count, the points and 0. The JSON wire format is
    assembled the same way. Either way the bytes are exactly ``codec.encode``'s.
    """

    def __init__(self, codec: Codec, topic: str) -> None:
        import copy

        import fastavro

        self.codec = codec
        self.topic = topic
        self.json = codec.wire_format == "json"
        raw = codec.schema("MetricBatch").raw
        items = next(f for f in raw["fields"] if f["name"] == "points")["type"]["items"]
        # timestamp-millis takes plain int ms as they are
        self._point_schema = fastavro.parse_schema(copy.deepcopy(items), _write_hint=False)
        self._write = fastavro.schemaless_writer
        self._headers: dict[tuple[str, str, tuple[tuple[str, str], ...]], bytes] = {}

    def point(self, ts_ms: int, metrics: Mapping[str, float]) -> bytes:
        if self.json:
            import orjson

            return orjson.dumps({"ts": ts_ms, "metrics": metrics})
        buf = io.BytesIO()
        self._write(buf, self._point_schema, {"ts": ts_ms, "metrics": metrics})
        return buf.getvalue()

    def header(self, component: str, host: str, tags: Mapping[str, str]) -> bytes:
        key = (component, host, tuple(sorted(tags.items())))
        head = self._headers.get(key)
        if head is None:
            if len(self._headers) > 10_000:  # cgroups come and go; points keep their own
                self._headers.clear()
            empty = self.codec.encode(
                "MetricBatch",
                {"component": component, "host": host, "tags": dict(tags), "points": []},
                topic=self.topic,
            )
            head = empty[:-2] if self.json else empty[:-1]  # keep "[" / drop the final 0
            self._headers[key] = head
        return head

    def message(self, header: bytes, points: Sequence[bytes]) -> bytes:
        if self.json:
            return header + b",".join(points) + b"]}"
        return header + zigzag_long(len(points)) + b"".join(points) + b"\x00"


# ------------------------------------------------------------------------------- buffer


class Point:
    """One encoded sample waiting for the broker's acknowledgement."""

    __slots__ = ("seq", "component", "ts", "data", "header")

    def __init__(self, seq: int, component: str, ts: int, data: bytes, header: bytes) -> None:
        self.seq = seq
        self.component = component
        self.ts = ts
        self.data = data
        self.header = header


class SampleBuffer:
    """Samples not yet acknowledged by the broker, in collection order, at most ``bound``.

    ``queued`` samples wait to be sent; ``take`` moves some into a message in flight, which
    ``ack`` forgets and ``requeue`` puts back in order. Past the bound the oldest queued
    samples are dropped and counted in ``dropped``; samples already in flight are not
    (the client holds them), so the bound may be exceeded by what is in flight until those
    come back. Pure: no Kafka here.
    """

    def __init__(self, bound: int) -> None:
        if bound < 1:
            raise ConfigError(f"buffer bound must be at least 1 sample, got {bound}")
        self.bound = bound
        self.dropped = 0
        self.queued: deque[Point] = deque()
        self.inflight: dict[int, list[Point]] = {}
        self._inflight_n = 0
        self._seq = 0
        self._msg = 0

    @property
    def size(self) -> int:
        return len(self.queued) + self._inflight_n

    def add(self, component: str, ts: int, data: bytes, header: bytes) -> int:
        """Queue a sample; returns how many old ones were dropped to make room."""
        self._seq += 1
        self.queued.append(Point(self._seq, component, ts, data, header))
        return self._trim()

    def _trim(self) -> int:
        dropped = 0
        while self.size > self.bound and self.queued:
            self.queued.popleft()
            dropped += 1
        self.dropped += dropped
        return dropped

    def take(
        self,
        max_messages: int,
        max_points: int,
        ready: Callable[[list[Point]], bool] = lambda points: True,
    ) -> list[tuple[int, list[Point]]]:
        """Up to ``max_messages`` messages of one component each (oldest first), of the
        components whose queued points ``ready`` accepts; they are then in flight."""
        if max_messages <= 0 or not self.queued:
            return []
        groups: dict[str, list[Point]] = {}
        for p in self.queued:
            groups.setdefault(p.component, []).append(p)
        chunks = [
            points[i: i + max_points]
            for points in groups.values() if ready(points)
            for i in range(0, len(points), max_points)
        ]
        if not chunks:
            return []
        chunks.sort(key=lambda c: c[0].seq)
        del chunks[max_messages:]
        taken = {p.seq for c in chunks for p in c}
        self.queued = deque(p for p in self.queued if p.seq not in taken)
        out = []
        for chunk in chunks:
            self._msg += 1
            self.inflight[self._msg] = chunk
            self._inflight_n += len(chunk)
            out.append((self._msg, chunk))
        return out

    def ack(self, msg_id: int) -> int:
        """The broker has it: forget the message; returns its sample count (0 if unknown)."""
        points = self.inflight.pop(msg_id, None)
        if points is None:
            return 0
        self._inflight_n -= len(points)
        return len(points)

    discard = ack  # a message the broker refuses for good leaves the buffer the same way

    def requeue(self, msg_id: int) -> int:
        """The message failed: its samples go back in collection order; returns the count
        dropped by the bound as a result."""
        points = self.inflight.pop(msg_id, None)
        if points is None:
            return 0
        self._inflight_n -= len(points)
        self.queued = deque(merge(points, self.queued, key=lambda p: p.seq))
        return self._trim()

    def requeue_all(self) -> int:
        dropped = 0
        for msg_id in sorted(self.inflight):
            dropped += self.requeue(msg_id)
        return dropped

    def inflight_messages(self) -> int:
        return len(self.inflight)

