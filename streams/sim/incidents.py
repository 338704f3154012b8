"""Scenarios for the simulated fleet: components, incidents, the named scenarios, and how a
command's amount and unit translate into a component's capacity.

A scenario is a plain value built from a name and a seed; :mod:`streams.sim.simulator` turns
it into metric samples. Nothing here reads a clock or touches Kafka.

    >>> sc = scenario("ramp", seed=7)
    >>> [c.id for c in sc.components]
    ['web-01', 'web-02', 'app-01/api', 'db-01/postgres']
    >>> sc.incidents[0].kind, sc.incidents[0].metric
    ('load_surge', 'cpu.util')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from processors.health import default_rules

DEFAULT_START_MS = 1_767_571_200_000  # 2026-01-05T00:00:00Z, a Monday
DEFAULT_STEP_S = 10.0
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# The default health rules' FAIL thresholds (value >= threshold is a FAIL).
# The simulated metrics' FAIL thresholds: the default health rules', so ground truth and the
# health stream agree on what a breach is.
_SIMULATED = ("cpu.util", "mem.used_pct", "disk.used_pct", "disk.io_util", "net.util",
              "latency.p99_ms", "errors.rate")
FAIL_THRESHOLDS: dict[str, float] = {
    r.metric: r.fail for r in default_rules() if r.metric in _SIMULATED and r.direction == "above"
}
assert set(FAIL_THRESHOLDS) == set(_SIMULATED), "default health rules lack a simulated metric"

MEM_SEASONAL = 0.05  # memory follows the load's seasonality, damped (caches, buffers)
ONSET_FRACTION = 0.1  # onset: the injected effect reaches 10 % of the gap to the threshold

# Per role: capacity and the levels at the seasonal mean (jittered ±10 % per component).
ROLES: dict[str, dict[str, float]] = {
    "web": dict(cores=4, mem_gib=8, link_mbit=1000, cpu=0.30, mem_pct=50, disk_pct=35,
                io=0.05, net=0.25, latency_ms=80, error_rate=0.002, amp_day=0.35, amp_week=0.20),
    "app": dict(cores=8, mem_gib=16, link_mbit=1000, cpu=0.30, mem_pct=55, disk_pct=30,
                io=0.10, net=0.20, latency_ms=60, error_rate=0.002, amp_day=0.35, amp_week=0.20),
    "db": dict(cores=16, mem_gib=64, link_mbit=10000, cpu=0.28, mem_pct=65, disk_pct=55,
               io=0.30, net=0.15, latency_ms=15, error_rate=0.001, amp_day=0.30, amp_week=0.15),
    "cache": dict(cores=4, mem_gib=32, link_mbit=10000, cpu=0.15, mem_pct=60, disk_pct=20,
                  io=0.03, net=0.30, latency_ms=3, error_rate=0.0005, amp_day=0.30, amp_week=0.15),
    "worker": dict(cores=8, mem_gib=16, link_mbit=1000, cpu=0.35, mem_pct=50, disk_pct=40,
                   io=0.20, net=0.10, latency_ms=200, error_rate=0.002, amp_day=0.20,
                   amp_week=0.10),
}
_SERVICE = {"app": "api", "db": "postgres", "cache": "redis", "worker": "jobs"}


@dataclass(frozen=True)
class Component:
    """A host or host/service; the ``base_*`` levels hold at the seasonal mean."""

    id: str
    host: str
    role: str
    depends_on: tuple[str, ...]
    cores: float
    mem_gib: float
    link_mbit: float
    base_cpu: float
    base_mem_pct: float
    base_disk_pct: float
    base_io: float
    base_net: float
    base_latency_ms: float
    base_error_rate: float
    amp_day: float
    amp_week: float
    phase_h: float
    replicas: int = 1


# -- capacity: how an AllocationCommand's amount and unit change a component ----------------
# Resource -> (capacity pool, metric it relieves, default unit)
RESOURCES = {
    "CPU_WEIGHT": ("cpu", "cpu.util", "weight"),
    "CPU_QUOTA": ("cpu", "cpu.util", "cores"),
    "CPU_AFFINITY": ("cpu", "cpu.util", "cores"),
    "NICE": ("cpu", "cpu.util", "nice"),
    "MEMORY_HIGH": ("mem", "mem.used_pct", "mib"),
    "NET_BANDWIDTH": ("net", "net.util", "mbit/s"),
    "IO_WEIGHT": ("io", "disk.io_util", "weight"),
    "REPLICAS": ("replicas", "cpu.util", "replicas"),
}
POOL_UNIT = {"cpu": "x base CPU", "mem": "GiB", "net": "x link", "io": "x base IO",
              "replicas": "replicas"}
_RELATIVE = {"pct": 0.01, "%": 0.01, "percent": 0.01, "fraction": 1.0, "ratio": 1.0}
_BYTES = {"bytes": 2.0**-30, "b": 2.0**-30, "kib": 2.0**-20, "kb": 2.0**-20, "mib": 2.0**-10,
          "mb": 2.0**-10, "gib": 1.0, "gb": 1.0}
_BITS = {"bit/s": 1e-6, "bps": 1e-6, "kbit/s": 1e-3, "kbps": 1e-3, "mbit/s": 1.0, "mbps": 1.0,
         "gbit/s": 1e3, "gbps": 1e3, "bytes/s": 8e-6, "b/s": 8e-6}


def capacity_delta(pool: str, unit: str, amount: float, comp: Component) -> float | None:
    """Amount in the pool's canonical unit: relative capacity (cpu, io, net), GiB (mem) or
    replicas. None when the unit is unknown for the pool."""
    if unit in _RELATIVE and pool != "replicas":
        base = comp.mem_gib if pool == "mem" else 1.0
        return amount * _RELATIVE[unit] * base
    if pool == "cpu":
        per_unit = {"cores": 1 / comp.cores, "cpus": 1 / comp.cores, "cpu": 1 / comp.cores,
                    "millicores": 1e-3 / comp.cores, "m": 1e-3 / comp.cores,
                    "weight": 0.01, "shares": 1 / 1024, "nice": 0.05}.get(unit)
        if per_unit is None:
            return None
        return min(abs(amount) * per_unit, 0.5) if unit == "nice" else amount * per_unit
    if pool == "mem":
        return amount * _BYTES[unit] if unit in _BYTES else None
    if pool == "net":
        return amount * _BITS[unit] / comp.link_mbit if unit in _BITS else None
    if pool == "io":
        return amount * 0.01 if unit == "weight" else None
    return amount if unit in ("replicas", "count", "instances") else None


@dataclass(frozen=True)
class Provisioning:
    """How long a change of one resource takes to act once the backend has it: an increase
    after a delay drawn (per command, seeded) from ``[up_lo_s, up_hi_s]``, then the added
    capacity serves linearly more over ``warmup_s`` (cold caches, JIT, connection pools); a
    decrease (or a release, a preemption) after ``down_s``."""

    up_lo_s: float
    up_hi_s: float
    warmup_s: float = 0.0
    down_s: float = 10.0


CGROUP = Provisioning(10.0, 10.0, 0.0, 10.0)  # a cgroup/tc knob: the next control interval
INSTANT = Provisioning(0.0, 0.0, 0.0, 0.0)  # the old model: from the next step on
# platform -> resource -> Provisioning; resources not listed take CGROUP (INSTANT on "instant")
PLATFORMS: dict[str, dict[str, Provisioning]] = {
    # Kubernetes: a pod is scheduled, pulls its image and passes readiness in 60-180 s
    "k8s": {"REPLICAS": Provisioning(60.0, 180.0, 60.0, 10.0)},
    # AWS Auto Scaling: an EC2 instance boots and joins in 3-5 min, then warms up
    "aws": {"REPLICAS": Provisioning(180.0, 300.0, 120.0, 10.0)},
    "instant": {},
}


def provisioning(platform: str, resource: str) -> Provisioning:
    """The provisioning delay of ``resource`` on ``platform`` (see :data:`PLATFORMS`)."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; known: {sorted(PLATFORMS)}")
    return PLATFORMS[platform].get(resource, INSTANT if platform == "instant" else CGROUP)


@dataclass(frozen=True, eq=False)
class TraceDemand:
    """Demand read from a trace, replacing the seasonal model for the components it covers:
    ``load[i, k, :]`` is component ``i``'s cpu, io and net demand (``k`` = 0, 1, 2) in units of
    its base capacity at ``ts_ms``, ``mem_gib[i, :]`` its memory in GiB; NaN rows (components
    the trace does not cover) keep the model. Between two points demand is interpolated
    linearly; before the first and after the last it holds."""

    ts_ms: np.ndarray  # (T,) increasing
    load: np.ndarray  # (n, 3, T)
    mem_gib: np.ndarray  # (n, T)
    source: str = ""

    def at(self, t_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(load (n, 3), memory (n,)) at ``t_ms``."""
        ts = self.ts_ms
        j = int(np.searchsorted(ts, t_ms, side="right"))
        if j <= 0:
            return self.load[:, :, 0], self.mem_gib[:, 0]
        if j >= ts.size:
            return self.load[:, :, -1], self.mem_gib[:, -1]
        w = (t_ms - ts[j - 1]) / (ts[j] - ts[j - 1])
        load = self.load[:, :, j - 1] + w * (self.load[:, :, j] - self.load[:, :, j - 1])
        mem = self.mem_gib[:, j - 1] + w * (self.mem_gib[:, j] - self.mem_gib[:, j - 1])
        return load, mem


@dataclass(frozen=True)
class Incident:
    """An injected fault. Its effect grows from ``start_ms``; at ``breach_planned_ms`` it alone
    would put ``metric`` exactly on its FAIL threshold; at ``end_ms`` it is fixed (rollback,
    restart, clean-up). ``effects`` maps a channel (cpu, mem_gib, disk_pct, io, net) to the
    amount added at the planned breach."""

    kind: str
    component: str
    start_ms: int
    onset_ms: int
    breach_planned_ms: int
    end_ms: int
    metric: str
    shape: str
    effects: dict[str, float] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    components: tuple[Component, ...]
    incidents: tuple[Incident, ...]
    step_s: float
    duration_s: int
    seed: int
    start_ms: int
    platform: str = "k8s"  # how REPLICAS are provisioned: PLATFORMS
    demand: TraceDemand | None = field(default=None, compare=False, repr=False)


# kind -> (metric, shape, g_max: how far past the threshold the effect grows, default ramp_s)
KINDS: dict[str, tuple[str, str, float, int]] = {
    "load_surge": ("cpu.util", "linear", 1.35, 35 * 60),
    "memory_leak_linear": ("mem.used_pct", "linear", 1.35, 2 * 3600),
    "memory_leak_exponential": ("mem.used_pct", "exponential", 1.35, 90 * 60),
    "disk_filling": ("disk.used_pct", "linear", 1.35, 3 * 3600),
    "noisy_neighbour": ("disk.io_util", "linear", 1.35, 25 * 60),
    "network_saturation": ("net.util", "linear", 1.35, 40 * 60),
    "cascading_failure": ("cpu.util", "linear", 1.5, 40 * 60),
}
EXP_GROWTH = 20.0  # an exponential leak grows 20-fold between its start and its planned breach


def seasonal(t_ms: Any, amp_day: Any, amp_week: Any, phase_h: Any) -> Any:
    """Load multiplier around 1: trough at 04:00, peak at 16:00 (UTC + phase), lower at weekends.

    Works on floats and on numpy arrays alike (the fleet calls it once per step for all)."""
    hours = t_ms / HOUR_MS
    weekday = (hours / 24.0 + 3.0) % 7.0  # 1970-01-01 was a Thursday; Monday 00:00 is 0
    weekend = (0.5 * (1.0 + np.cos(2.0 * np.pi * (weekday - 6.0) / 7.0))) ** 4
    day = -np.cos((2.0 * np.pi / 24.0) * ((hours % 24.0 - 4.0) + phase_h))  # -1..1
    return (1.0 - amp_week * weekend) * (1.0 + amp_day * day)


def baseline(comp: Component, metric: str, t_ms: int) -> float:
    """The noise-free value of ``metric`` at ``t_ms`` with no incident and no grant."""
    s = float(seasonal(t_ms, comp.amp_day, comp.amp_week, comp.phase_h))
    return {
        "cpu.util": comp.base_cpu * s,
        "disk.io_util": comp.base_io * s,
        "net.util": comp.base_net * s,
        "mem.used_pct": comp.base_mem_pct * (1.0 + MEM_SEASONAL * (s - 1.0)),
        "disk.used_pct": comp.base_disk_pct,
    }[metric]


def make_component(
    cid: str, role: str, rng: np.random.Generator, depends_on: Sequence[str] = ()
) -> Component:
    p = ROLES[role]
    j = rng.uniform(0.9, 1.1, size=9)
    return Component(
        id=cid, host=cid.split("/", 1)[0], role=role, depends_on=tuple(depends_on),
        cores=p["cores"], mem_gib=p["mem_gib"], link_mbit=p["link_mbit"],
        base_cpu=p["cpu"] * j[0], base_mem_pct=p["mem_pct"] * j[1],
        base_disk_pct=p["disk_pct"] * j[2], base_io=p["io"] * j[3], base_net=p["net"] * j[4],
        base_latency_ms=p["latency_ms"] * j[5], base_error_rate=p["error_rate"] * j[6],
        amp_day=p["amp_day"] * j[7], amp_week=p["amp_week"] * j[8],
        phase_h=float(rng.uniform(-1.0, 1.0)),
    )


def plan_incident(
    kind: str, comp: Component, start_ms: int, ramp_s: float | None = None, hold_s: float = 600
) -> Incident:
    """Size an incident so that, noise aside, ``metric`` reaches FAIL at start + ramp_s."""
    if kind not in KINDS:
        raise ValueError(f"unknown incident kind {kind!r}; known: {sorted(KINDS)}")
    metric, shape, g_max, default_ramp = KINDS[kind]
    ramp = float(ramp_s if ramp_s is not None else default_ramp)
    if ramp <= 0 or hold_s < 0:
        raise ValueError(f"{kind} on {comp.id}: ramp_s must be > 0 and hold_s >= 0")
    tb = start_ms + round(ramp * 1000)
    thr = FAIL_THRESHOLDS[metric]
    gap = thr - baseline(comp, metric, tb)
    if gap <= 0:
        raise ValueError(f"{comp.id}: {metric} is already at its threshold at {tb}")
    effects: dict[str, float]
    if kind == "load_surge":
        effects = {"cpu": gap, "net": 0.3 * baseline(comp, "net.util", tb)}
    elif kind == "cascading_failure":
        io_gap = FAIL_THRESHOLDS["disk.io_util"] - baseline(comp, "disk.io_util", tb)
        effects = {"cpu": gap, "io": 0.5 * io_gap}  # slow queries load the disks too
    elif kind.startswith("memory_leak"):
        effects = {"mem_gib": comp.mem_gib * gap / 100.0}
    elif kind == "disk_filling":
        effects = {"disk_pct": gap}
    elif kind == "noisy_neighbour":
        effects = {"io": gap, "cpu": 0.08}  # the neighbour also steals a little CPU
    else:  # network_saturation
        effects = {"net": gap}
    if shape == "exponential":
        lg = math.log(EXP_GROWTH)
        onset_s = ramp * math.log1p(ONSET_FRACTION * (EXP_GROWTH - 1.0)) / lg
        tau_max_s = ramp * math.log1p(g_max * (EXP_GROWTH - 1.0)) / lg
        growth = EXP_GROWTH
    else:
        onset_s, tau_max_s, growth = ONSET_FRACTION * ramp, g_max * ramp, 1.0
    return Incident(
        kind=kind, component=comp.id, start_ms=start_ms,
        onset_ms=start_ms + round(onset_s * 1000), breach_planned_ms=tb,
        end_ms=start_ms + round((tau_max_s + hold_s) * 1000), metric=metric, shape=shape,
        effects=effects,
        params={"ramp_s": ramp, "g_max": g_max, "growth": growth, "tau_max_s": tau_max_s,
                "hold_s": float(hold_s)},
    )


# Fast-onset demand: kind -> (default ramp_s, hold_s, fall_s, factor). The load on cpu, io and
# net (the component's own seasonal level at the start) is multiplied by ``factor`` within
# ``ramp_s``, held ``hold_s``, and back within ``fall_s``.
PULSES: dict[str, tuple[float, float, float, float]] = {
    "flash_crowd": (120.0, 20 * 60.0, 10 * 60.0, 5.0),  # 5x in 2 minutes (a link on a front page)
    "morning_peak": (15 * 60.0, 8 * 3600.0, 2 * 3600.0, 2.5),  # the working day starts at once
}


def plan_pulse(kind: str, comp: Component, start_ms: int, factor: float | None = None,
               ramp_s: float | None = None, hold_s: float | None = None,
               fall_s: float | None = None) -> Incident:
    """A demand pulse on ``comp``: its cpu, io and net load times ``factor`` (at the seasonal
    level of ``start_ms``) within ``ramp_s``, held ``hold_s``, back to normal within ``fall_s``.
    ``breach_planned_ms``: when the pulse alone (seasonality and noise aside) puts ``cpu.util``
    on its FAIL threshold at base capacity; ``end_ms`` when it never does."""
    if kind not in PULSES:
        raise ValueError(f"unknown pulse {kind!r}; known: {sorted(PULSES)}")
    d_ramp, d_hold, d_fall, d_factor = PULSES[kind]
    ramp = float(d_ramp if ramp_s is None else ramp_s)
    hold = float(d_hold if hold_s is None else hold_s)
    fall = float(d_fall if fall_s is None else fall_s)
    f = float(d_factor if factor is None else factor)
    if ramp <= 0 or hold < 0 or fall < 0 or f <= 1.0:
        raise ValueError(f"{kind} on {comp.id}: need ramp_s > 0, hold_s, fall_s >= 0, factor > 1")
    extra = f - 1.0
    load = {ch: float(baseline(comp, m, start_ms))
            for ch, m in (("cpu", "cpu.util"), ("io", "disk.io_util"), ("net", "net.util"))}
    effects = {ch: float(extra * v) for ch, v in load.items()}
    end_ms = start_ms + round((ramp + hold + fall) * 1000)
    thr = FAIL_THRESHOLDS["cpu.util"]
    g_star = (thr - load["cpu"]) / effects["cpu"] if effects["cpu"] > 0 else math.inf
    breach = start_ms + round(max(g_star, 0.0) * ramp * 1000) if g_star <= 1.0 else end_ms
    return Incident(
        kind=kind, component=comp.id, start_ms=start_ms,
        onset_ms=start_ms + round(ONSET_FRACTION * ramp * 1000), breach_planned_ms=breach,
        end_ms=end_ms, metric="cpu.util", shape="pulse", effects=effects,
        params={"ramp_s": ramp, "g_max": 1.0, "growth": 1.0, "tau_max_s": ramp,
                "hold_s": hold, "fall_s": fall, "factor": f},
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
            return np.interp(grid.astype(float), ts, np.nan_to_num(v.astype(float)))

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
