"""A fast path for the hot message: a ``MetricBatch`` read straight into columns (#14).

A shipper's ``MetricBatch`` carries the same metrics, in the same order, at every point, and
its timestamps have the same number of varint bytes, so after the header its points are rows
of one fixed byte layout. :func:`read_columns` checks that layout against the first point —
every byte that is not a timestamp or a value must match it — and then reads all timestamps
and values with a few numpy operations: no dict per point or per value. Anything else (a point
with other metrics, a timestamp of another length, several array or map blocks, another
schema, corrupt bytes) returns ``None``, and the caller reads the message with fastavro as
before (:meth:`schemas.codec.Codec.decode`). ``MetricColumns.to_record`` gives the record
fastavro gives, bit for bit (``tests/unit/test_batchwire.py``).

Body layout (Avro binary, ``schemas/avro/MetricBatch.avsc``): component, host (string =
zigzag-varint length + UTF-8), tags (map of strings), points (array of ``{ts: long, metrics:
map<double>}``); maps and arrays are blocks of ``count [, byte size if count < 0]`` ending in
a zero count.

>>> from schemas.codec import Codec
>>> c = Codec()
>>> rec = {"component": "web-1", "host": "h1", "tags": {"dc": "a"},
...        "points": [{"ts": 1_700_000_000_000 + 10_000 * i,
...                    "metrics": {"cpu": 0.5 + i, "mem": 2.0}} for i in range(3)]}
>>> cols = read_columns(c, c.encode("MetricBatch", rec))
>>> cols.names, cols.values.tolist(), cols.to_record() == rec
(('cpu', 'mem'), [[0.5, 2.0], [1.5, 2.0], [2.5, 2.0]], True)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from schemas.codec import SINGLE_OBJECT_MARKER, Codec

__all__ = ["MetricColumns", "read_columns"]


@dataclass(frozen=True)
class MetricColumns:
    """One ``MetricBatch`` as columns: ``values[i, j]`` is metric ``names[j]`` at ``ts[i]``."""

    component: str
    host: str
    tags: dict[str, str]
    ts: np.ndarray  # (points,) int64, epoch ms
    names: tuple[str, ...]
    values: np.ndarray  # (points, metrics) float64

    def to_record(self) -> dict[str, Any]:
        """The record fastavro reads from the same bytes."""
        return {
            "component": self.component,
            "host": self.host,
            "tags": self.tags,
            "points": [{"ts": t, "metrics": m} for t, m in self._points()],
        }

    def samples(self) -> list[dict[str, Any]]:
        """The ``MetricSample`` dicts it carries, as ``streams.handler.batch_to_samples`` makes
        them from :meth:`to_record` (one tags dict shared by all)."""
        comp, host, tags, names = self.component, self.host, self.tags or {}, self.names
        return [{"component": comp, "host": host, "ts": t,  # no generator: a loop (s27)
                 "metrics": dict(zip(names, row, strict=True)), "tags": tags}
                for t, row in zip(self.ts.tolist(), self.values.tolist(), strict=True)]

    def _points(self) -> Iterator[tuple[int, dict[str, float]]]:
        names = self.names
        for t, row in zip(self.ts.tolist(), self.values.tolist(), strict=True):
            yield t, dict(zip(names, row, strict=True))


class _Bad(Exception):
    """Not the fixed layout: the caller falls back to fastavro."""


def _long(b: bytes, pos: int) -> tuple[int, int]:
    """A zigzag varint at ``pos``: (value, position after it)."""
    shift = u = 0
    while True:
        if pos >= len(b) or shift > 63:
            raise _Bad
        byte = b[pos]
        pos += 1
        u |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (u >> 1) ^ -(u & 1), pos
        shift += 7


def _string(b: bytes, pos: int) -> tuple[str, int]:
    n, pos = _long(b, pos)
    if n < 0 or pos + n > len(b):
        raise _Bad
    try:
        return b[pos:pos + n].decode(), pos + n
    except UnicodeDecodeError:
        raise _Bad from None


def _tags(b: bytes, pos: int) -> tuple[dict[str, str], int]:
    tags: dict[str, str] = {}
    while True:
        count, pos = _long(b, pos)
        if count == 0:
            return tags, pos
        if count < 0:
            count = -count
            _, pos = _long(b, pos)  # the block's byte size
        for _ in range(count):
            k, pos = _string(b, pos)
            tags[k], pos = _string(b, pos)


def read_columns(codec: Codec, data: bytes | None) -> MetricColumns | None:
    """The ``MetricBatch`` in ``data`` (Avro single-object, this codec's current schema) as
    columns, or ``None`` when it is not in the fixed layout (read it with ``codec.decode``)."""
    if not data or data[:2] != SINGLE_OBJECT_MARKER:
        return None
    if data[2:10] != codec.schema("MetricBatch").fingerprint:
        return None
    try:
        return _read(data, 10)
    except _Bad:
        return None


def _read(b: bytes, pos: int) -> MetricColumns:
    component, pos = _string(b, pos)
    host, pos = _string(b, pos)
    tags, pos = _tags(b, pos)
    points, pos = _long(b, pos)
    if points < 0:
        points = -points
        _, pos = _long(b, pos)
    if points == 0:
        raise _Bad
    start = pos
    _, pos = _long(b, pos)  # the first point's ts
    ts_len = pos - start
    count, pos = _long(b, pos)
    if count <= 0:
        raise _Bad
    names: list[str] = []
    offsets: list[int] = []
    for _ in range(count):
        name, pos = _string(b, pos)
        names.append(name)
        offsets.append(pos - start)
        pos += 8
    if pos >= len(b) or b[pos] != 0:  # one map block, then its end
        raise _Bad
    stride = pos + 1 - start
    end = start + points * stride
    if end + 1 != len(b) or b[end] != 0:  # one array block, then the record's end
        raise _Bad
    rows = np.frombuffer(b, np.uint8, points * stride, start).reshape(points, stride)
    return MetricColumns(component, host, tags, _ts(rows, ts_len), tuple(names),
                         _values(rows, offsets, ts_len))


# a layout's masks, built once: (stride, ts_len, value offsets) -> (indexes of the bytes that
# must match the first row's, indexes of the values' bytes); ts_len -> (continuation flags,
# the 7-bit groups' weights). A shipper sends one layout, so these stay small (emptied past
# _LAYOUTS_MAX)
_LAYOUTS_MAX = 256
_layouts: dict[tuple[int, int, tuple[int, ...]], tuple[np.ndarray, np.ndarray]] = {}
_varints: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _ts(rows: np.ndarray, ts_len: int) -> np.ndarray:
    """Every row's leading zigzag varint of ``ts_len`` bytes (all of that length, or _Bad)."""
    head = rows[:, :ts_len]
    got = _varints.get(ts_len)
    if got is None:
        more = np.arange(ts_len) < ts_len - 1  # every byte but the last has its top bit set
        weights = np.array([1 << (7 * k) for k in range(ts_len)], np.uint64)
        got = _varints[ts_len] = more, weights
    more, weights = got
    if ((head >= 0x80) != more).any():
        raise _Bad
    if ts_len <= 9:  # the 7-bit groups fill disjoint bits of 63: their sum is their OR
        u = (head & 0x7F).astype(np.uint64) @ weights
    else:
        u = np.zeros(len(rows), np.uint64)
        for k in range(ts_len):
            u |= (head[:, k] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
    return (u >> np.uint64(1)).astype(np.int64) ^ -(u & np.uint64(1)).astype(np.int64)


def _layout(stride: int, offsets: list[int], ts_len: int) -> tuple[np.ndarray, np.ndarray]:
    key = (stride, ts_len, tuple(offsets))
    got = _layouts.get(key)
    if got is None:
        is_value = np.zeros(stride, bool)
        for off in offsets:
            is_value[off:off + 8] = True
        fixed = ~is_value
        fixed[:ts_len] = False
        cols = np.concatenate([np.arange(off, off + 8) for off in offsets])
        if len(_layouts) >= _LAYOUTS_MAX:
            _layouts.clear()
        got = _layouts[key] = np.flatnonzero(fixed), cols
    return got


def _values(rows: np.ndarray, offsets: list[int], ts_len: int) -> np.ndarray:
    """The doubles at ``offsets`` of every row, once every other byte after the timestamp
    matches the first row's."""
    fixed, cols = _layout(rows.shape[1], offsets, ts_len)
    same = rows[:, fixed]
    if not (same == same[0]).all():
        raise _Bad
    return np.ascontiguousarray(rows[:, cols]).view("<f8").astype(np.float64)
