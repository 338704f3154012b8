"""The simulated fleet's parts: components, incidents and their plans, provisioning delays,
and how a command's amount and unit translate into a component's capacity. The named
scenarios built from them are in :mod:`streams.sim.scenarios`. Nothing here reads a clock or
touches Kafka."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
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


# How much of each pool a host has, as a multiple of the base capacity of the components it
# runs (summed): a cgroup/tc knob can give a component at most what its host has left. A
# component's base CPU and memory are half and two thirds of its host's (a pod's request on a
# node of twice its size, the usual bin-packing picture); its disk and link are the host's
# devices, so IO_WEIGHT and NET_BANDWIDTH cannot add capacity the device lacks. A new replica
# runs on a host of its own, with the same headroom. Chosen, not fitted (no labels read).
HOST_HEADROOM = {"cpu": 2.0, "mem": 1.5, "io": 1.0, "net": 1.0}

METRICS = ("cpu.util", "mem.used_pct", "disk.used_pct", "disk.io_util", "net.util",
           "net.rx_bytes_s", "latency.p99_ms", "errors.rate", "load.1m")


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
