"""Real per-VM resource traces, read as they are shipped: the demand of a real fleet.

Two formats:

* **Bitbrains GWA-T-12** (the Grid Workloads Archive's "fastStorage" / "Rnd" sets): one file
  per VM, ``<vm>.csv`` or ``<vm>.csv.gz``, ``;`` + tab separated, one header line::

      Timestamp [ms]; CPU cores; CPU capacity provisioned [MHZ]; CPU usage [MHZ]; CPU usage [%];
      Memory capacity provisioned [KB]; Memory usage [KB]; Disk read throughput [KB/s];
      Disk write throughput [KB/s]; Network received throughput [KB/s];
      Network transmitted throughput [KB/s]

  The header says milliseconds but the archive's values are Unix **seconds**; a timestamp
  over ``1e11`` is read as milliseconds instead, so a corrected file reads the same. Steps
  are mostly 300 s, with gaps (kept as gaps) and a few denser stretches.
* **long CSV**: a header ``ts,component,metric,value`` and one row per value; ``ts`` in Unix
  seconds (or milliseconds, over ``1e11``), ``component`` any id, ``metric`` one of
  ``cpu``, ``mem``, ``disk``, ``net`` (demand, any unit, the same for every row of that
  metric of that component) or ``cpu.capacity``, ``mem.capacity`` (the provisioned size, in
  the demand's unit; optional). A fleet's own exported history fits this form.

A directory is searched one or two levels deep (``DIR/*.csv[.gz]`` and ``DIR/*/*.csv[.gz]``);
a file whose header is ``ts,component,metric,value`` is a long CSV, any other a Bitbrains file
(its VM id is its path under DIR without the suffix, e.g. ``2013-7/17``). Rows that do not parse
are skipped and counted (``Trace.skipped``); timestamps are sorted, a repeated one keeps its
last row.

**A window in event time** (``load_traces(..., start=, end=)``, ``forewarn backtest trace
--start/--end``): each trace is cut to the samples with ``start <= ts < end`` (Unix seconds;
either bound may be left open), so consecutive windows share no sample; a trace with no sample
in the window, or with every sample there all zero (a VM switched off: no provisioned size, no
demand), is left out. What runs on a cut trace starts cold at its first sample in the
window, as a fresh deployment would. :func:`parse_time` reads a bound: Unix seconds, or an ISO
8601 date / date-time (UTC unless it carries an offset).

:func:`samples` turns a trace into ``MetricSample``-shaped dicts (event time in ms)::

    cpu.used_mhz, mem.used_kb   demand in absolute units (the trace's)
    cpu.util                    CPU demand / provisioned CPU (0..1, can exceed 1)
    mem.used_pct                memory demand / provisioned memory x 100
    cpu.capacity_mhz, mem.capacity_kb   the provisioned sizes (where the trace has them)
    disk.kb_s, net.kb_s         read + write, received + transmitted (when the trace has them)

Pure apart from reading files; no Kafka.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from schemas.errors import ConfigError

__all__ = ["RESOURCES", "Trace", "load_traces", "parse_time", "read_bitbrains", "read_long_csv",
           "samples", "trace_files", "window"]

RESOURCES = ("cpu", "mem", "disk", "net")  # demand series a trace may hold (cpu, mem always)
UNITS = {"cpu": "MHz", "mem": "KB", "disk": "KB/s", "net": "KB/s"}
LONG_HEADER = ("ts", "component", "metric", "value")
MS_OVER = 1e11  # a timestamp over this is in milliseconds (1e11 s is the year 5138)
_SUFFIXES = (".csv.gz", ".csv")


@dataclass
class Trace:
    """One component's (VM's) series: ``ts`` in Unix seconds (int64, increasing), ``demand``
    resource -> usage per step, ``capacity`` resource -> provisioned size per step (cpu and
    mem where the trace has them)."""

    component: str
    ts: np.ndarray
    demand: dict[str, np.ndarray]
    capacity: dict[str, np.ndarray] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    source: str = ""
    skipped: int = 0

    def __len__(self) -> int:
        return int(self.ts.size)

    @property
    def step_s(self) -> int:
        """The trace's usual step: the median gap between samples (300 for Bitbrains)."""
        if self.ts.size < 2:
            return 300
        return int(np.median(np.diff(self.ts)))


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")  # noqa: SIM115


def _seconds(values: np.ndarray) -> np.ndarray:
    """Timestamps in seconds: values over ``MS_OVER`` are milliseconds, divided."""
    return np.floor(np.where(values > MS_OVER, values / 1000.0, values)).astype(np.int64)


def _ordered(ts: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted by time, a repeated timestamp keeping its last row."""
    order = np.argsort(ts, kind="stable")
    ts, cols = ts[order], cols[order]
    keep = np.ones(ts.size, dtype=bool)
    if ts.size > 1:
        keep[:-1] = ts[1:] != ts[:-1]
    return ts[keep], cols[keep]


def read_bitbrains(path: str | Path, component: str | None = None) -> Trace:
    """One GWA-T-12 per-VM file (``.csv`` or ``.csv.gz``) as a :class:`Trace`."""
    path = Path(path)
    rows: list[list[float]] = []
    skipped = 0
    with _open_text(path) as f:
        header = f.readline()
        if "timestamp" not in header.lower() or ";" not in header:
            raise ConfigError(f"{path}: not a Bitbrains GWA-T-12 file (header {header[:60]!r})")
        for line in f:
            parts = line.split(";")
            if len(parts) < 7:
                skipped += bool(line.strip())
                continue
            try:
                vals = [float(p) for p in parts[:11]]
            except ValueError:
                skipped += 1
                continue
            if not all(math.isfinite(v) for v in vals[:7]):
                skipped += 1
                continue
            rows.append(vals + [math.nan] * (11 - len(vals)))
    if not rows:
        raise ConfigError(f"{path}: no readable rows")
    arr = np.asarray(rows, dtype=np.float64)
    ts, arr = _ordered(_seconds(arr[:, 0]), arr)
    demand = {"cpu": arr[:, 3], "mem": arr[:, 6]}
    if np.isfinite(arr[:, 7:9]).all():
        demand["disk"] = arr[:, 7] + arr[:, 8]
    if np.isfinite(arr[:, 9:11]).all():
        demand["net"] = arr[:, 9] + arr[:, 10]
    return Trace(component=component or _stem(path), ts=ts,
                 demand={k: np.ascontiguousarray(v) for k, v in demand.items()},
                 capacity={"cpu": np.ascontiguousarray(arr[:, 2]),
                           "mem": np.ascontiguousarray(arr[:, 5])},
                 units={k: UNITS[k] for k in demand}, source=str(path), skipped=skipped)


def read_long_csv(path: str | Path) -> list[Trace]:
    """A ``ts,component,metric,value`` file: one :class:`Trace` per component (sorted by id).

    A component needs ``cpu`` and ``mem`` demand; the steps are the union of its timestamps,
    a value missing at a step carrying the previous one forward (the first ones back-filled).
    """
    path = Path(path)
    data: dict[str, dict[str, dict[float, float]]] = {}
    skipped = 0
    known = {*RESOURCES, "cpu.capacity", "mem.capacity"}
    with _open_text(path) as f:
        header = tuple(h.strip().lower() for h in f.readline().split(","))
        if header != LONG_HEADER:
            raise ConfigError(f"{path}: header must be {','.join(LONG_HEADER)}")
        for line in f:
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 4 or parts[2] not in known:
                skipped += bool(line.strip())
                continue
            try:
                t, value = float(parts[0]), float(parts[3])
            except ValueError:
                skipped += 1
                continue
            if not (math.isfinite(t) and math.isfinite(value)):
                skipped += 1
                continue
            data.setdefault(parts[1], {}).setdefault(parts[2], {})[t] = value
    out = []
    for comp in sorted(data, key=_natural):
        series = data[comp]
        if "cpu" not in series or "mem" not in series:
            skipped += sum(len(v) for v in series.values())
            continue
        raw_ts = np.asarray(sorted({t for v in series.values() for t in v}), dtype=np.float64)
        ts = _seconds(raw_ts)
        cols = {m: _carry(raw_ts, v) for m, v in series.items()}
        ts, stacked = _ordered(ts, np.column_stack([cols[m] for m in sorted(cols)]))
        cols = {m: np.ascontiguousarray(stacked[:, i]) for i, m in enumerate(sorted(cols))}
        demand = {r: cols[r] for r in RESOURCES if r in cols}
        capacity = {r: cols[f"{r}.capacity"] for r in ("cpu", "mem") if f"{r}.capacity" in cols}
        out.append(Trace(component=comp, ts=ts, demand=demand, capacity=capacity,
                         units={r: "" for r in demand}, source=str(path)))
    if not out:
        raise ConfigError(f"{path}: no component with both cpu and mem rows")
    out[0].skipped += skipped
    return out


def _carry(ts: np.ndarray, values: dict[float, float]) -> np.ndarray:
    """``values`` on the grid ``ts``: last value carried forward, the first back-filled."""
    out = np.full(ts.size, math.nan)
    idx = np.searchsorted(ts, np.asarray(sorted(values), dtype=np.float64))
    out[idx] = [values[t] for t in sorted(values)]
    last = math.nan
    for i in range(out.size):
        if math.isnan(out[i]):
            out[i] = last
        else:
            last = out[i]
    first = out[np.isfinite(out)][0]
    out[np.isnan(out)] = first
    return out


def _strip(name: str) -> str:
    for suf in _SUFFIXES:
        if name.endswith(suf):
            return name[: -len(suf)]
    return name


def _stem(path: Path) -> str:
    return _strip(path.name)


def _natural(s: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def trace_files(data: str | Path) -> list[Path]:
    """The ``.csv`` / ``.csv.gz`` files of a directory, one or two levels deep (or the file
    itself), in natural order of their path."""
    data = Path(data)
    if data.is_file():
        return [data]
    if not data.is_dir():
        raise ConfigError(f"{data}: no such file or directory")
    found = [p for pattern in ("*", "*/*") for p in data.glob(pattern)
             if p.is_file() and p.name.endswith(_SUFFIXES)]
    return sorted(found, key=lambda p: _natural(str(p.relative_to(data))))


def _is_long(path: Path) -> bool:
    with _open_text(path) as f:
        return tuple(h.strip().lower() for h in f.readline().split(",")) == LONG_HEADER


def parse_time(text: str) -> int:
    """A window bound in Unix seconds: ``1373925600``, ``2013-07-16`` (midnight UTC) or
    ``2013-07-15T22:00`` / ``2013-07-15T22:00:00+02:00`` (UTC unless an offset is given)."""
    raw = text.strip()
    try:
        value = float(raw)
    except ValueError:
        try:
            when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ConfigError(f"{text!r}: expected Unix seconds or an ISO 8601 date") from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return math.floor(when.timestamp())
    if not math.isfinite(value):
        raise ConfigError(f"{text!r}: not a finite time")
    return math.floor(value)


def _on(trace: Trace, lo: int, hi: int) -> bool:
    """Whether any step in ``[lo, hi)`` has a provisioned size or a demand above 0."""
    return any(bool(np.any(series[r][lo:hi] > 0)) for series in (trace.capacity, trace.demand)
               for r in ("cpu", "mem") if r in series)


def window(trace: Trace, start: int | None = None, end: int | None = None) -> Trace | None:
    """The samples of ``trace`` with ``start <= ts < end`` (a bound left ``None`` is open), as a
    new :class:`Trace`; ``None`` when none is left, or when the VM is off throughout them (no
    provisioned size and no demand above 0 at any step: its size unit would be 1 KB / 1 MHz).
    Without bounds, ``trace`` itself."""
    if start is None and end is None:
        return trace
    lo = 0 if start is None else int(np.searchsorted(trace.ts, start, side="left"))
    hi = trace.ts.size if end is None else int(np.searchsorted(trace.ts, end, side="left"))
    if hi <= lo or not _on(trace, lo, hi):
        return None

    def cut(series: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: np.ascontiguousarray(v[lo:hi]) for k, v in series.items()}

    return Trace(component=trace.component, ts=np.ascontiguousarray(trace.ts[lo:hi]),
                 demand=cut(trace.demand), capacity=cut(trace.capacity),
                 units=dict(trace.units), source=trace.source, skipped=trace.skipped)


def load_traces(data: str | Path, components: Sequence[str] | None = None,
                start: int | None = None, end: int | None = None) -> list[Trace]:
    """Every trace under ``data`` (a file or a directory; see the module docstring), in natural
    order of component id; only those in ``components`` when given, each cut to the window
    ``start <= ts < end`` (:func:`window`; a trace with no sample there is left out). A
    Bitbrains file's id is its path under ``data`` without the suffix (``2013-7/17``); a long
    CSV's ids are its own."""
    root = Path(data)
    out: list[Trace] = []
    for path in trace_files(root):
        if _is_long(path):
            out += read_long_csv(path)
        else:
            rel = path.relative_to(root) if root.is_dir() else Path(path.name)
            out.append(read_bitbrains(path, component=_strip(rel.as_posix())))
    if components is not None:
        wanted = set(components)
        out = [t for t in out if t.component in wanted]
    if not out:
        raise ConfigError(f"{data}: no traces found (.csv or .csv.gz, one or two levels deep)")
    cut = [w for w in (window(t, start, end) for t in out) if w is not None]
    if not cut:
        raise ConfigError(f"{data}: no sample in the window [{start}, {end})")
    out = cut
    return sorted(out, key=lambda t: _natural(t.component))


def samples(trace: Trace, host: str | None = None) -> Iterator[dict[str, Any]]:
    """The trace as ``MetricSample``-shaped dicts, one per step (see the module docstring)."""
    comp = trace.component
    host = host or comp
    cpu_cap = trace.capacity.get("cpu")
    mem_cap = trace.capacity.get("mem")
    extra = [(r, f"{r}.kb_s") for r in ("disk", "net") if r in trace.demand]
    cpu, mem = trace.demand["cpu"], trace.demand["mem"]
    for i in range(trace.ts.size):
        metrics = {"cpu.used_mhz": float(cpu[i]), "mem.used_kb": float(mem[i])}
        if cpu_cap is not None and cpu_cap[i] > 0:
            metrics["cpu.util"] = float(cpu[i] / cpu_cap[i])
            metrics["cpu.capacity_mhz"] = float(cpu_cap[i])
        if mem_cap is not None and mem_cap[i] > 0:
            metrics["mem.used_pct"] = float(100.0 * mem[i] / mem_cap[i])
            metrics["mem.capacity_kb"] = float(mem_cap[i])
        for r, name in extra:
            metrics[name] = float(trace.demand[r][i])
        yield {"component": comp, "host": host, "ts": int(trace.ts[i]) * 1000,
               "metrics": metrics, "tags": {"source": "trace"}}
