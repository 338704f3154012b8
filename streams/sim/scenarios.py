"""The named scenarios of the simulated fleet, each a plain value built from a name and a seed
(:func:`scenario`); :mod:`streams.sim.simulator` turns one into metric samples.

    >>> sc = scenario("ramp", seed=7)
    >>> [c.id for c in sc.components]
    ['web-01', 'web-02', 'app-01/api', 'db-01/postgres']
    >>> sc.incidents[0].kind, sc.incidents[0].metric
    ('load_surge', 'cpu.util')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from streams.sim.incidents import (
    _SERVICE,
    DAY_MS,
    DEFAULT_START_MS,
    DEFAULT_STEP_S,
    HOUR_MS,
    KINDS,
    PLATFORMS,
    Component,
    Incident,
    Scenario,
    TraceDemand,
    make_component,
    plan_incident,
    plan_pulse,
)


def _rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64([seed, 0x5CE7A]))


def _fleet_of(spec: Sequence[tuple[str, str, tuple[str, ...]]], rng: np.random.Generator
              ) -> tuple[Component, ...]:
    return tuple(make_component(cid, role, rng, deps) for cid, role, deps in spec)


_RAMP = [
    ("web-01", "web", ("app-01/api",)),
    ("web-02", "web", ("app-01/api",)),
    ("app-01/api", "app", ("db-01/postgres",)),
    ("db-01/postgres", "db", ()),
]
_SMALL = [*_RAMP[:2], ("app-01/api", "app", ("db-01/postgres", "cache-01/redis")),
          ("db-01/postgres", "db", ()), ("cache-01/redis", "cache", ())]
_APPS = ("app-01/api", "app-02/api", "app-03/api")
_MIXED = [
    *[(f"web-0{i}", "web", _APPS) for i in range(1, 5)],
    ("app-01/api", "app", ("db-01/postgres", "cache-01/redis")),
    ("app-02/api", "app", ("db-01/postgres", "cache-01/redis")),
    ("app-03/api", "app", ("db-02/postgres", "cache-01/redis")),
    ("db-01/postgres", "db", ()),
    ("db-02/postgres", "db", ()),
    ("cache-01/redis", "cache", ()),
    ("worker-01/jobs", "worker", ("db-02/postgres",)),
    ("worker-02/jobs", "worker", ("db-02/postgres",)),
]
# kind -> (component, start hour, ramp_s) in the mixed day
_MIXED_PLAN = [
    ("memory_leak_linear", "app-02/api", 2.0, 3 * 3600),
    ("disk_filling", "worker-02/jobs", 6.0, 5 * 3600),
    ("load_surge", "web-02", 9.5, 40 * 60),
    ("memory_leak_exponential", "worker-01/jobs", 13.0, 2 * 3600),
    ("noisy_neighbour", "db-02/postgres", 16.5, 30 * 60),
    ("network_saturation", "cache-01/redis", 18.5, 45 * 60),
    ("cascading_failure", "db-01/postgres", 20.5, 40 * 60),
]
_KIND_TARGET = {
    "load_surge": "web-01", "memory_leak_linear": "app-01/api",
    "memory_leak_exponential": "app-01/api", "disk_filling": "db-01/postgres",
    "noisy_neighbour": "db-01/postgres", "network_saturation": "cache-01/redis",
    "cascading_failure": "db-01/postgres",
}
_ELIGIBLE = {
    "load_surge": ("web", "app"), "memory_leak_linear": ("app", "worker"),
    "memory_leak_exponential": ("app", "worker", "cache"), "disk_filling": ("db", "worker"),
    "noisy_neighbour": ("db",), "network_saturation": ("cache", "web"),
    "cascading_failure": ("db",),
}


def _ceil_to(x_s: float, unit_s: int) -> int:
    return int(math.ceil(x_s / unit_s) * unit_s)


def _build_ramp(seed: int, start_ms: int, duration_s: int | None) -> Scenario:
    comps = _fleet_of(_RAMP, _rng(seed))
    inc = plan_incident("load_surge", comps[0], start_ms + 10 * 60_000, ramp_s=35 * 60)
    return Scenario("ramp", comps, (inc,), DEFAULT_STEP_S, duration_s or 4500, seed, start_ms)


def _kind_builder(kind: str) -> Callable[[int, int, int | None], Scenario]:
    def build(seed: int, start_ms: int, duration_s: int | None) -> Scenario:
        comps = _fleet_of(_SMALL, _rng(seed))
        target = next(c for c in comps if c.id == _KIND_TARGET[kind])
        inc = plan_incident(kind, target, start_ms + 30 * 60_000)
        default = _ceil_to((inc.end_ms - start_ms) / 1000 + 1200, 600)
        return Scenario(kind, comps, (inc,), DEFAULT_STEP_S, duration_s or default, seed,
                        start_ms)

    return build


def _build_mixed(seed: int, start_ms: int, duration_s: int | None) -> Scenario:
    rng = _rng(seed)
    comps = _fleet_of(_MIXED, rng)
    by_id = {c.id: c for c in comps}
    incs = []
    for kind, cid, hour, ramp_s in _MIXED_PLAN:
        t0 = start_ms + round(hour * HOUR_MS) + 60_000 * int(rng.integers(-15, 16))
        incs.append(plan_incident(kind, by_id[cid], t0, ramp_s * float(rng.uniform(0.9, 1.1))))
    return Scenario("mixed", comps, tuple(incs), DEFAULT_STEP_S, duration_s or 86_400, seed,
                    start_ms)


_CELL = [("db", ()), ("cache", ()), ("app", (0, 1)), ("app", (0, 1)), ("app", (0, 1)),
         ("web", (2, 3, 4)), ("web", (2, 3, 4)), ("web", (2, 3, 4)), ("web", (2, 3, 4)),
         ("worker", (0,))]


def _build_fleet(seed: int, start_ms: int, duration_s: int | None,
                 n_components: int = 100, incident_rate: float = 0.5) -> Scenario:
    """``n_components`` in cells of ten (db, cache, 3 apps, 4 webs, a worker); each full cell
    gets one incident of a random kind with probability ``incident_rate``."""
    rng = _rng(seed)
    duration = duration_s or 86_400
    counts: dict[str, int] = {}
    spec: list[tuple[str, str, tuple[str, ...]]] = []
    cell_ids: list[str] = []
    for n in range(n_components):
        role, deps = _CELL[n % len(_CELL)]
        if n % len(_CELL) == 0:
            cell_ids = []
        counts[role] = counts.get(role, 0) + 1
        cid = f"{role}-{counts[role]:04d}" + (f"/{_SERVICE[role]}" if role in _SERVICE else "")
        cell_ids.append(cid)
        spec.append((cid, role, tuple(cell_ids[d] for d in deps)))
    comps = _fleet_of(spec, rng)
    incs = []
    kinds = sorted(KINDS)
    for cell in range(n_components // len(_CELL)):
        kind = kinds[int(rng.integers(len(kinds)))]
        if rng.uniform() >= incident_rate:
            continue
        members = comps[cell * len(_CELL):(cell + 1) * len(_CELL)]
        targets = [c for c in members if c.role in _ELIGIBLE[kind]]
        target = targets[int(rng.integers(len(targets)))]
        span_s = KINDS[kind][3] * (KINDS[kind][2] + 0.5) + 600
        latest_s = duration - span_s - 1800
        if latest_s > 3600:
            t0 = start_ms + 60_000 * int(rng.integers(60, int(latest_s // 60)))
            incs.append(plan_incident(kind, target, t0))
    return Scenario("fleet", comps, tuple(incs), DEFAULT_STEP_S, duration, seed, start_ms)


def _build_flash_crowd(seed: int, start_ms: int, duration_s: int | None) -> Scenario:
    """Two flash crowds on the small fleet (30 min and 2 h 30 in): the webs' load 5x within
    2 minutes, the app's 3x, the database's and the cache's 2x, held 20 minutes."""
    rng = _rng(seed)
    comps = _fleet_of(_SMALL, rng)
    factor = {"web": 5.0, "app": 3.0, "db": 2.0, "cache": 2.0}
    incs = []
    for minute in (30, 150):
        t0 = start_ms + 60_000 * (minute + int(rng.integers(-5, 6)))
        incs += [plan_pulse("flash_crowd", c, t0, factor=factor[c.role]) for c in comps]
    return Scenario("flash_crowd", comps, tuple(incs), DEFAULT_STEP_S, duration_s or 4 * 3600,
                    seed, start_ms)


# role -> the morning peak's factor on a working day
_MORNING = {"web": 4.0, "app": 3.0, "db": 2.5, "cache": 2.0}


def _peaks(comps: Sequence[Component], start_ms: int, days: int, rng: np.random.Generator,
           weekly: bool) -> list[Incident]:
    """One morning peak per component and day: 08:00 (± 10 min, the same for the whole fleet
    that day) with a 15-minute ramp; ``weekly``: Mondays higher, Fridays lower, and a late,
    slow, small weekend peak (10:00, a 1-hour ramp, half the weekday's extra load)."""
    incs = []
    for day in range(days):
        t_day = start_ms + day * DAY_MS
        weekday = int((t_day / DAY_MS + 3) % 7)  # Monday 0
        jitter = 60_000 * int(rng.integers(-10, 11))
        scale, hour, ramp = 1.0, 8.0, 15 * 60.0
        if weekly:
            scale = {0: 1.15, 4: 0.85, 5: 0.5, 6: 0.5}.get(weekday, 1.0)
            if weekday >= 5:
                hour, ramp = 10.0, 3600.0
        for c in comps:
            factor = 1.0 + (_MORNING[c.role] - 1.0) * scale
            incs.append(plan_pulse("morning_peak", c, t_day + round(hour * HOUR_MS) + jitter,
                                   factor=factor, ramp_s=ramp))
    return incs


def _build_daily_peaks(seed: int, start_ms: int, duration_s: int | None) -> Scenario:
    """Three working days on the small fleet, each with a steep morning ramp (08:00, 15 min,
    the webs 4x), held through the day and down in the evening."""
    rng = _rng(seed)
    comps = _fleet_of(_SMALL, rng)
    duration = duration_s or 3 * 86_400
    incs = _peaks(comps, start_ms, math.ceil(duration / 86_400), rng, weekly=False)
    return Scenario("daily_peaks", comps, tuple(incs), DEFAULT_STEP_S, duration, seed, start_ms)


def _build_weekly(seed: int, start_ms: int, duration_s: int | None) -> Scenario:
    """A week (Monday first) on the small fleet at one-minute steps: morning peaks that differ
    by weekday (Monday's highest, Friday's lower, a late and slow weekend)."""
    rng = _rng(seed)
    comps = _fleet_of(_SMALL, rng)
    duration = duration_s or 7 * 86_400
    incs = _peaks(comps, start_ms, math.ceil(duration / 86_400), rng, weekly=True)
    return Scenario("weekly", comps, tuple(incs), 60.0, duration, seed, start_ms)


MHZ_PER_CORE = 2926.0  # Bitbrains' MHz per core (actuators/rightsize.py uses the same)
IO_KB_S = 100 * 1024.0  # the disk bandwidth a trace's disk KB/s is read against (100 MiB/s)


def _first_traces(data: str, n: int) -> list[Any]:
    """The first ``n`` traces under ``data`` in file order, reading only the files needed; a
    Bitbrains file's component is its path under ``data`` without the suffix, as in
    :func:`streams.sim.traces.load_traces`."""
    from pathlib import Path

    from streams.sim.traces import load_traces, trace_files

    root, out = Path(data), []
    for f in trace_files(root):
        got = load_traces(f)
        if root.is_dir() and len(got) == 1:
            rel = f.relative_to(root).as_posix()
            stem = rel.removesuffix(".gz").removesuffix(".csv")
            if got[0].component == stem.rsplit("/", 1)[-1]:
                got = [replace(got[0], component=stem)]
        out += got
        if len(out) >= n:
            break
    return out


def _build_trace(seed: int, start_ms: int, duration_s: int | None, data: str | None = None,
                 vms: int = 10, first: int = 0) -> Scenario:
    """Demand from a trace (``data``: a file or directory :func:`streams.sim.traces.load_traces`
    reads): ``vms`` traces from the ``first`` (natural order), one component each, sized as
    provisioned in the trace (median provisioned CPU and memory; a trace without capacity
    columns: its peak demand). CPU in MHz and memory in KB (Bitbrains' units) make the
    component's cores and GiB right; event time is the trace's
    (its first sample, down to the minute; ``start_ms`` is not used). One-minute steps; two
    days unless ``duration_s``."""
    del start_ms
    if not data:
        raise ValueError("scenario 'trace' needs data=DIR (a trace file or a directory)")
    if vms < 1 or first < 0:
        raise ValueError("scenario 'trace': vms >= 1 and first >= 0")
    traces = _first_traces(data, first + vms)[first:first + vms]
    if not traces:
        raise ValueError(f"scenario 'trace': {data} has no trace from #{first}")
    t0_s = min(int(t.ts[0]) for t in traces) // 60 * 60
    duration = int(duration_s or 2 * 86_400)
    grid = np.arange(t0_s, t0_s + duration + 301, 300, dtype=np.int64)  # the trace's 5 minutes
    comps, load, mem = [], [], []
    for t in traces:
        def cap(r: str, t: Any = t) -> float:
            c = t.capacity.get(r)
            pos = c[c > 0] if c is not None else np.empty(0)
            if pos.size:
                return float(np.median(pos))
            peak = float(np.nanmax(t.demand[r])) if t.demand.get(r) is not None else 0.0
            return peak if peak > 0 else 1.0

        cpu_mhz, mem_kb = cap("cpu"), cap("mem")
        ts = t.ts.astype(float)

        def on(r: str, t: Any = t, ts: np.ndarray = ts) -> np.ndarray:
            v = t.demand.get(r)
            if v is None or not ts.size:
                return np.zeros(grid.size)
            out: np.ndarray = np.interp(grid.astype(float), ts, np.nan_to_num(v.astype(float)))
            return out

        cpu, mem_used = on("cpu") / cpu_mhz, on("mem") / 2**20
        io, net = on("disk") / IO_KB_S, on("net") / 125_000.0  # 1 Gbit/s = 125,000 KB/s
        cid = "vm-" + t.component.replace("/", "-")
        mem_gib = mem_kb / 2**20
        comps.append(Component(
            id=cid, host=cid, role="vm", depends_on=(), cores=cpu_mhz / MHZ_PER_CORE,
            mem_gib=mem_gib, link_mbit=1000.0, base_cpu=float(np.median(cpu)),
            base_mem_pct=float(100.0 * np.median(mem_used) / mem_gib), base_disk_pct=30.0,
            base_io=float(np.median(io)), base_net=float(np.median(net)),
            base_latency_ms=50.0, base_error_rate=0.001, amp_day=0.0, amp_week=0.0,
            phase_h=0.0))
        load.append(np.stack([cpu, io, net]))
        mem.append(mem_used)
    demand = TraceDemand(grid * 1000, np.stack(load), np.stack(mem), source=str(data))
    return Scenario("trace", tuple(comps), (), 60.0, duration, seed, t0_s * 1000,
                    demand=demand)


SCENARIOS: dict[str, Callable[..., Scenario]] = {
    "ramp": _build_ramp,
    "mixed": _build_mixed,
    "fleet": _build_fleet,
    **{kind: _kind_builder(kind) for kind in KINDS},
    "flash_crowd": _build_flash_crowd,
    "daily_peaks": _build_daily_peaks,
    "weekly": _build_weekly,
    "trace": _build_trace,
}
NEEDS_DATA = frozenset({"trace"})  # scenarios that read a trace: ``all`` leaves them out
_REPLACEABLE = {"step_s", "name", "components", "incidents", "platform"}


def scenario(name: str, seed: int = 42, **overrides: Any) -> Scenario:
    """The named scenario for ``seed``. Overrides: ``start_ms`` and ``duration_s`` (incidents
    are placed relative to them), ``step_s``, ``components``, ``incidents``, ``platform``
    (``k8s``, ``aws``, ``instant``: how fast REPLICAS arrive), and the builder's own keywords
    (``fleet``: ``n_components``, ``incident_rate``; ``trace``: ``data``, ``vms``, ``first``)."""
    try:
        build = SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {sorted(SCENARIOS)}") from None
    start_ms = int(overrides.pop("start_ms", DEFAULT_START_MS))
    duration_s = overrides.pop("duration_s", None)
    fields_ = {k: overrides.pop(k) for k in list(overrides) if k in _REPLACEABLE}
    try:
        sc = build(seed, start_ms, duration_s, **overrides)
    except TypeError as e:
        raise ValueError(f"scenario {name!r} does not take {sorted(overrides)}: {e}") from None
    sc = replace(sc, **fields_)
    if sc.step_s <= 0 or sc.duration_s <= 0:
        raise ValueError(f"scenario {name!r}: step_s and duration_s must be positive")
    if sc.platform not in PLATFORMS:
        raise ValueError(f"unknown platform {sc.platform!r}; known: {sorted(PLATFORMS)}")
    return sc


def scenario_names(which: str, data: str | None = None) -> list[str]:
    """``which`` as a list of scenario names: ``all`` is every scenario, those that read a
    trace only when ``data`` is given; ``a,b`` is a list of names."""
    if which != "all":
        names = [w.strip() for w in which.split(",") if w.strip()]
        bad = [n for n in names if n not in SCENARIOS]
        if bad or not names:
            raise ValueError(f"unknown scenario {which!r}; known: {', '.join(SCENARIOS)}, all")
        return names
    return [n for n in SCENARIOS if n not in NEEDS_DATA or data]
