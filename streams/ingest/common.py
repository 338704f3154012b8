"""What every ingest adapter's format module reads with: values, timestamps and names.

An adapter turns one Kafka message of a foreign format into MetricSample dicts. The parts
are spread over a few modules:

* here, ``AdapterError`` — the only exception an adapter raises for a bad message::

      ValueError
       └── AdapterError(fmt, reason)   the message cannot be read: dead-letter it, with str(err)

  and ``load_documents`` (JSON or NDJSON), ``to_number`` / ``to_ts_ms`` (the awkward values
  and timestamps of real shippers), ``norm_name`` / ``series_suffix`` (forewarn's dotted
  lowercase metric names);
* ``component`` — ``ComponentRule``: which tags name the component, and which are its host;
* ``counters`` — ``CounterState`` (cumulative counters to per-second rates) and ``Joiner``
  (metrics derived from several series, which may come in several messages);
* ``base`` — ``BaseAdapter``: value → rate → mapping → grouping into samples, for every format;
* ``hostrules`` — host-metric rules (CPU modes, interfaces, disks, latency) that several
  formats share.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from schemas.errors import DecodeError

# Point kinds: how a raw value becomes a metric value.
GAUGE = 0  # the value is the metric
COUNTER = 1  # cumulative, monotonic: per-second rate between observations
DELTA = 2  # an increment over an interval: per-second rate = value / interval

class AdapterError(DecodeError, ValueError):
    """A message that its adapter cannot read; ``str()`` says which format and what was wrong.

    A :class:`schemas.errors.DecodeError`, so ingest dead-letters it like any unreadable bytes.
    """

    def __init__(self, fmt: str, reason: str) -> None:
        super().__init__(f"{fmt} adapter: {reason}")
        self.fmt = fmt
        self.reason = reason

    def __reduce__(self) -> tuple[type[AdapterError], tuple[str, str]]:
        return (AdapterError, (self.fmt, self.reason))


def load_documents(payload: Any, fmt: str) -> list[Any]:
    """Decode one JSON document, or newline-delimited JSON (one document a line)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogatepass")
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise AdapterError(fmt, f"payload is {type(payload).__name__}, expected bytes")
    data = bytes(payload)
    if not data.strip():
        raise AdapterError(fmt, "empty message")
    try:
        return [orjson.loads(data)]
    except orjson.JSONDecodeError as exc:
        whole = exc
    lines = [line for line in data.splitlines() if line.strip()]
    if len(lines) < 2:
        raise AdapterError(fmt, f"message is not JSON ({whole})")
    docs = []
    for i, line in enumerate(lines, 1):
        try:
            docs.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise AdapterError(fmt, f"line {i} of {len(lines)} is not JSON ({exc})") from None
    return docs


def load_items(payload: Any, fmt: str) -> list[Any]:
    """The items of a message: its documents, with a JSON array's elements taken one by one."""
    items: list[Any] = []
    for doc in load_documents(payload, fmt):
        items.extend(doc if isinstance(doc, list) else [doc])
    return items


# ---------------------------------------------------------------------------------- values


def to_number(raw: Any) -> int | float | None:
    """A finite number from a JSON value: numbers, numeric strings ("1.5", "9876543210"),
    booleans (1/0). None for NaN/±Inf, non-numeric strings and anything nested."""
    t = type(raw)
    if t is float:
        return raw if math.isfinite(raw) else None
    if t is int:
        exact: int = raw
        return exact
    if t is str:
        s = raw.strip()
        if s.isascii() and s.isdigit():  # 64-bit counters as strings stay exact
            return int(s)
        try:
            x = float(s)
        except ValueError:
            return None
        return x if math.isfinite(x) else None
    if t is bool:
        return 1 if raw else 0
    return None


_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_UNIT_DIV = {"ms": 1, "us": 1_000, "ns": 1_000_000}


def epoch_to_ms(x: int | float, unit: str = "auto") -> int | None:
    """Epoch number to ms. ``unit`` is s|ms|us|ns, or auto: guessed by magnitude (values
    below 1e11 are seconds, below 1e14 ms, below 1e17 µs, else ns)."""
    if unit == "auto":
        a = abs(x)
        unit = "s" if a < 1e11 else "ms" if a < 1e14 else "us" if a < 1e17 else "ns"
    if unit == "s":
        ms = x * 1000 if type(x) is int else round(x * 1000)
    elif type(x) is int:
        ms = x // _UNIT_DIV[unit]
    else:
        ms = math.floor(x / _UNIT_DIV[unit])
    return int(ms) if 0 <= ms <= _MAX_MS else None


@lru_cache(maxsize=4096)
def iso_to_ms(text: str) -> int | None:
    """RFC 3339 / ISO 8601 text to epoch ms (no zone means UTC); None if unreadable."""
    try:
        dt = datetime.fromisoformat(text.strip())
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        ms = (int(dt.timestamp()) * 1000) + dt.microsecond // 1000
    except (ValueError, OverflowError):
        return None
    return ms if 0 <= ms <= _MAX_MS else None


def to_ts_ms(raw: Any, recv_ts_ms: int | None, fmt: str, unit: str = "auto") -> int:
    """A message's event time in ms: epoch numbers (``unit``), digit strings, RFC 3339 text.
    Missing (None, "", 0) falls back to ``recv_ts_ms``; otherwise an AdapterError."""
    if type(raw) is bool:
        raise AdapterError(fmt, "unreadable timestamp (a boolean)")
    if raw is None or raw == "" or raw == 0 or raw == "0":
        if recv_ts_ms is None:
            raise AdapterError(fmt, "no timestamp in the message and no receive time given")
        return int(recv_ts_ms)
    t = type(raw)
    ms: int | None = None
    if t is int or (t is float and math.isfinite(raw)):
        ms = epoch_to_ms(raw, unit)
    elif t is str:
        s = raw.strip()
        ms = epoch_to_ms(int(s), unit) if s.isascii() and s.isdigit() else iso_to_ms(s)
    if ms is None:
        raise AdapterError(fmt, f"unreadable timestamp {str(raw)[:40]!r}")
    return ms


# ----------------------------------------------------------------------------------- names

_BAD = re.compile(r"[^a-z0-9_.]+")


@lru_cache(maxsize=65536)
def norm_name(name: str) -> str:
    """Dotted lowercase: anything but [a-z0-9_.] becomes "_" ("Disk IO/Busy" → disk_io_busy)."""
    return _BAD.sub("_", name.lower()).strip("._") or "_"


@lru_cache(maxsize=65536)
def _suffix(items: tuple[tuple[str, str], ...]) -> str:
    parts = []
    for _, value in items:
        v = "root" if value == "/" else _BAD.sub("_", value.lower()).strip("._")
        parts.append(v or "_")
    return "." + ".".join(parts) if parts else ""


def series_suffix(series: Mapping[str, str]) -> str:
    """The values of a series' own tags, by tag name: {"cpu": "cpu0"} → ".cpu0"."""
    return _suffix(tuple(sorted(series.items()))) if series else ""


def series_key(series: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(series.items())) if series else ""


def quantile_name(q: Any) -> str | None:
    """0.99 → "p99", 0.5 → "p50", 0.999 → "p99_9"; None if not a quantile."""
    x = to_number(q)
    if x is None or not 0 <= x <= 1:
        return None
    return "p" + (f"{x * 100:.3f}".rstrip("0").rstrip(".").replace(".", "_") or "0")


_TIME_SCALE_MS = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "µs": 1e-3, "ns": 1e-6}
_NAME_UNIT = (("_seconds", "s"), ("_milliseconds", "ms"), ("_ms", "ms"),
              ("_microseconds", "us"), ("_us", "us"))


def time_scale_ms(unit: str, name: str = "") -> float | None:
    """Factor to milliseconds for a time unit, taken from ``unit`` or else ``name``'s suffix."""
    if unit:
        return _TIME_SCALE_MS.get(unit.strip("{}").lower())
    for suffix, u in _NAME_UNIT:
        if name.endswith(suffix):
            return _TIME_SCALE_MS[u]
    return None



def rate_name(name: str, kind: int) -> str:
    """A pass-through name by Prometheus' conventions: a counter loses "_total", gains "_s"."""
    if kind == GAUGE:
        return norm_name(name)
    return norm_name(name[:-6] if name.endswith("_total") else name) + "_s"
