"""What every collector of ``forewarn ship`` shares: the sample it returns, the protocol the
shipper calls, and the small readers and rate keeping of kernel files."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import NamedTuple, Protocol

log = logging.getLogger(__name__)


class Sample(NamedTuple):
    """One observation of one component, as the shipper buffers it."""

    component: str
    host: str
    ts: int  # event time, ms
    metrics: dict[str, float]
    tags: dict[str, str]


class Collector(Protocol):
    """What the shipper calls once per interval."""

    def collect(self, ts_ms: int, mono_s: float) -> list[Sample]: ...

    def close(self) -> None: ...


def read_text(path: str) -> str | None:
    """The whole file, or None if it cannot be read (missing, permission, cgroup gone)."""
    try:
        with open(path, "rb", buffering=0) as f:
            return f.readall().decode("ascii", "replace")
    except OSError:
        return None


class Rates:
    """Per-second rates of cumulative counters between two collections.

    A counter that went down (reset, wrap, a device that came back) gives no rate that time.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, float]] = {}

    def rate(self, key: str, value: float, mono_s: float) -> float | None:
        prev = self._last.get(key)
        self._last[key] = (value, mono_s)
        if prev is None:
            return None
        dv, dt = value - prev[0], mono_s - prev[1]
        if dt <= 0 or dv < 0:
            return None
        return dv / dt

    def forget(self, prefix: str) -> None:
        for key in [k for k in self._last if k.startswith(prefix)]:
            del self._last[key]


def parse_psi(text: str) -> dict[str, float]:
    """``/proc/pressure/*`` or a cgroup's ``*.pressure``: {"some": avg10, "full": avg10}."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        for field in rest.split():
            if field.startswith("avg10="):
                out[kind] = float(field[6:])
                break
    return out


def parse_kv(text: str) -> dict[str, int]:
    """Lines of ``key value`` (``/proc/meminfo`` without its kB, ``cpu.stat``, ``memory.stat``)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.replace(":", " ").split()
        if len(parts) >= 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


PSI_METRICS = (
    ("cpu", "some", "psi.cpu.some_avg10"),
    ("memory", "some", "psi.mem.some_avg10"),
    ("memory", "full", "psi.mem.full_avg10"),
    ("io", "some", "psi.io.some_avg10"),
    ("io", "full", "psi.io.full_avg10"),
)


def put_psi(metrics: dict[str, float], read: Mapping[str, str | None]) -> None:
    """PSI avg10 values (percent of time stalled) from the texts of cpu, memory and io."""
    parsed = {res: parse_psi(text) for res, text in read.items() if text}
    for res, kind, name in PSI_METRICS:
        value = parsed.get(res, {}).get(kind)
        if value is not None:
            metrics[name] = value


def clamp01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def close_all(collectors: Iterable[Collector]) -> None:
    for c in collectors:
        try:
            c.close()
        except Exception:  # closing must not hide the reason we are stopping
            log.exception("closing collector %r", c)
