"""forewarn's sizing of a fleet: forecast demand in, vertical and ``REPLICAS`` commands out.

One :class:`~actuators.forecast_sizing.ForewarnSizer` per component and pool (cpu, mem, io,
net) learns the component's absolute demand from its samples (utilisation times the capacity
in force: ``cpu.util`` x allocation x replicas, ``mem.used_pct`` x memory) and forecasts it
over the **lead time of the action it may need**: a pool that more replicas relieve (cpu, io,
net) over ``replica_lead_s`` (a pod's worst-case start plus its warm-up), memory over
``vertical_lead_s`` (a cgroup knob). The pipeline's risk scores are the sizers' override
(:meth:`ForewarnSizer.on_risk`). Every ``decision_s`` of event time, per component:

* ``need[p]`` = the sizer's allocation / ``target`` (0.8), in units of one replica's base
  (its "as provisioned", in its cold start or when its prior wins, as it is);
* **replicas**: the fewest that keep every load pool within what one host can give,
  ``ceil(replicas0 * max_p need[p] / headroom[p])`` (``headroom``: the host's size over the
  component's base; 1 for the disk and the link, which are the host's devices), bounded by
  ``max_replicas``; a lower count only once it was asked for all of ``stabilisation_s``
  (pods are slow to come back);
* **vertical**: each pool's cgroup/tc knob at ``need[p] * replicas0 / replicas_ready``
  (the pods serving now carry the load until the new ones are ready), between
  ``min_fraction`` of the base and the host's headroom; memory at ``need[mem]``.

A command goes out when an amount moved by at least the resource's ``min_amount`` and
``deadband`` (5 %) of the base; at most
one command per (component, resource) in flight. Amounts are over base, in each resource's
unit (cgroup weights of 100, MiB, Mbit/s, replicas), as :mod:`actuators.reactive` sends them.
Pure and deterministic: no clock, no I/O; command ids hash the component, resource, amount
and the sample's ``ts``. The closed loop (``backtest fleet --policy forewarn``) and
``forewarn actuate --sizing fleet`` (:mod:`streams.runtime.sizing`) run this same class.

>>> w = Workload("web-1", "web-1", cores=4, mem_gib=8, link_mbit=1000)
>>> fs = FleetSizing([w])
>>> s = {"component": "web-1", "host": "web-1", "ts": 60_000,
...      "metrics": {"cpu.util": 0.3, "mem.used_pct": 50.0, "disk.io_util": 0.1, "net.util": 0.1}}
>>> fs.on_sample(s)  # cold start: the sizers hold the provisioned size until they learnt
[]
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from actuators.contract import make_command
from actuators.pool import DEFAULT_RESOURCES, ResourceSpec
from actuators.rightsize import make_sizer
from actuators.sizerbase import GIB_KB, MHZ_PER_CORE, Sizer
from schemas.errors import ConfigError

Record = dict[str, Any]

__all__ = ["DEFAULT_HEADROOM", "POOLS", "FleetSizing", "FleetSizingConfig", "Workload"]

# pool -> (resource that drives it, metric observed, metric -> utilisation, sizer resource)
POOLS: dict[str, tuple[str, str, float, str]] = {
    "cpu": ("CPU_WEIGHT", "cpu.util", 1.0, "cpu"),
    "mem": ("MEMORY_HIGH", "mem.used_pct", 0.01, "mem"),
    "io": ("IO_WEIGHT", "disk.io_util", 1.0, "disk"),
    "net": ("NET_BANDWIDTH", "net.util", 1.0, "net"),
}
LOAD_POOLS = ("cpu", "io", "net")  # spread over replicas


# the host's size over a component's base, per pool, when a workload does not say
DEFAULT_HEADROOM: Mapping[str, float] = {"cpu": 2.0, "mem": 1.5, "io": 1.0, "net": 1.0}


def _default_headroom() -> dict[str, float]:
    return dict(DEFAULT_HEADROOM)


@dataclass(frozen=True)
class Workload:
    """A component as provisioned: its base (one replica's request), its deployment's own
    replica count, and its host's size over that base per pool (``headroom``)."""

    id: str
    host: str
    cores: float
    mem_gib: float
    link_mbit: float
    replicas: int = 1
    headroom: Mapping[str, float] = field(default_factory=_default_headroom)

    def base(self, resource: str) -> float:
        """One replica's base capacity in the resource's unit (an amount of 1 x base)."""
        return {"CPU_WEIGHT": 100.0, "IO_WEIGHT": 100.0, "MEMORY_HIGH": self.mem_gib * 1024.0,
                "NET_BANDWIDTH": float(self.link_mbit)}[resource]


@dataclass(frozen=True)
class FleetSizingConfig:
    """The policy's knobs; the defaults are chosen, not fitted (docs/closedloop.md)."""

    decision_s: int = 60
    target: float = 0.8  # the simulated SLA fails at 0.95; latency climbs from about 0.85
    replica_lead_s: int = 240  # k8s: a pod starts in 60-180 s, then warms up for 60 s
    vertical_lead_s: int = 10  # a cgroup/tc knob acts at the next control interval
    stabilisation_s: int = 300
    max_replicas: int = 20
    min_fraction: float = 0.1
    deadband: float = 0.05  # a vertical change smaller than this fraction of base waits
    saturated: float = 0.98  # utilisation at or over this hides demand (throttled, full)
    knob: float | None = None  # the sizers' lambda (None: their default)
    # the sizers' memory ceiling: off, as a pool's demand is read uncensored (util / target
    # at saturation) and may pass the base size, so a leak is allocated ahead of; a VM's
    # memory cannot (the trace loop's ForewarnSizer default, "mem"; docs/closedloop.md)
    ceiling: bool | str = False
    # the sizers' charge: 0, every unit allocated (the simulator's goal prices resource-hours);
    # the trace loop's default since session 21 is 1, the unused capacity (its goal: slack)
    charge: float = 0.0
    resources: Mapping[str, ResourceSpec] = field(default_factory=lambda: DEFAULT_RESOURCES)

    def __post_init__(self) -> None:
        if self.decision_s < 1 or not 0.0 < self.target <= 1.0:
            raise ConfigError("FleetSizingConfig: decision_s >= 1 and 0 < target <= 1")
        if self.replica_lead_s < 0 or self.vertical_lead_s < 0 or self.max_replicas < 1:
            raise ConfigError("FleetSizingConfig: leads >= 0 and max_replicas >= 1")
        if not 0.0 < self.min_fraction <= 1.0:
            raise ConfigError("FleetSizingConfig: min_fraction within (0, 1]")


@dataclass
class _Component:
    spec: Workload
    sizers: dict[str, Sizer]
    scale: dict[str, float]  # one base in the sizer's absolute unit, per pool
    ratio: dict[str, float]  # vertical allocation in force per pool, base = 1
    replicas: int
    next_ms: int | None = None
    history: deque[tuple[int, int]] = field(default_factory=deque)
    pending: dict[str, tuple[str, float]] = field(default_factory=dict)  # resource -> (id, v)


def _need(alloc: float, sizer: Sizer, target: float) -> float:
    """The capacity to provide for a sizer's allocation: over ``target``, so that utilisation
    stays under it; the sizer's "as provisioned" (its cold start, or its prior winning) is
    kept as it is, as no forecast stands behind it."""
    cold = int(getattr(sizer, "resolved", 0)) < int(getattr(sizer, "warm", 0))
    if cold or abs(alloc - sizer.capacity) <= 1e-9 * max(sizer.capacity, 1.0):
        return alloc
    return alloc / target


def _uncensored(util: float, cfg: FleetSizingConfig) -> float:
    """Utilisation read as demand. A saturated pool (throttled CPU, a full link, memory at
    its limit) shows the allocation, not the demand, which is at least that: it is read as
    ``util / target``, the HPA's rule for a full pod, so a capped component's forecast
    grows by that factor each decision instead of learning "demand = allocation".

    >>> cfg = FleetSizingConfig()
    >>> _uncensored(0.5, cfg), _uncensored(1.0, cfg)
    (0.5, 1.25)
    """
    return util / cfg.target if util >= cfg.saturated else util


class FleetSizing:
    """Right-sizing of ``workloads`` over vertical knobs and replicas, on forecast demand."""

    def __init__(self, workloads: Sequence[Workload],
                 config: FleetSizingConfig | None = None) -> None:
        self.config = cfg = config if config is not None else FleetSizingConfig()
        self._comps: dict[str, _Component] = {}
        for w in workloads:
            scale = {"cpu": w.cores * MHZ_PER_CORE, "mem": w.mem_gib * GIB_KB,
                     "io": MHZ_PER_CORE, "net": MHZ_PER_CORE}
            sizers = {p: make_sizer(
                "forewarn", None if cfg.knob is None else (cfg.knob,), capacity=scale[p],
                step_s=cfg.decision_s, resource=kind, ceiling=cfg.ceiling, charge=cfg.charge,
                fleet_prior="",  # a prior of real VMs' ratios is not the simulator's pools'
                delay_s=cfg.replica_lead_s if p in LOAD_POOLS else cfg.vertical_lead_s)
                for p, (_, _, _, kind) in POOLS.items()}
            self._comps[w.id] = _Component(w, sizers, scale, dict.fromkeys(POOLS, 1.0),
                                           max(w.replicas, 1))

    def allocations(self) -> dict[str, dict[str, float]]:
        """Per component: the replicas and each pool's vertical allocation (base = 1)."""
        return {c: {"replicas": float(st.replicas), **st.ratio}
                for c, st in sorted(self._comps.items())}

    def on_risk(self, risk: Mapping[str, Any]) -> None:
        """A RiskScore: the component's sizers' override."""
        st = self._comps.get(str(risk.get("component")))
        if st is not None:
            for sz in st.sizers.values():
                sz.on_risk(risk)

    def on_sample(self, sample: Mapping[str, Any], ready: int | None = None) -> list[Record]:
        """Learn one MetricSample; at a decision time, the component's commands. ``ready``:
        the replicas serving now (the API's readiness); None: all asked for."""
        st = self._comps.get(str(sample.get("component")))
        if st is None:
            return []
        now_ms = int(sample["ts"])
        ts = now_ms // 1000
        r0 = max(st.spec.replicas, 1)
        serving = st.replicas if ready is None else max(min(int(ready), st.replicas), 1)
        metrics = sample.get("metrics") or {}
        for pool, (_, metric, k, _) in POOLS.items():
            v = metrics.get(metric)
            if isinstance(v, int | float) and math.isfinite(v):
                spread = serving / r0 if pool in LOAD_POOLS else 1.0
                st.sizers[pool].observe(ts, _uncensored(float(v) * k, self.config)
                                        * st.ratio[pool] * spread * st.scale[pool])
        if st.next_ms is not None and now_ms < st.next_ms:
            return []
        st.next_ms = now_ms + self.config.decision_s * 1000
        return self._decide(st, now_ms, serving)

    def _decide(self, st: _Component, now_ms: int, serving: int) -> list[Record]:
        cfg, spec = self.config, st.spec
        ts, r0 = now_ms // 1000, max(spec.replicas, 1)
        need = {p: _need(float(sz.recommend(ts)[0]), sz, cfg.target) / st.scale[p]
                for p, sz in st.sizers.items()}
        room = {p: max(float(spec.headroom.get(p, 1.0)), cfg.min_fraction) for p in POOLS}
        want_r = max(math.ceil(r0 * need[p] / room[p] - 1e-9) for p in LOAD_POOLS)
        want_r = min(max(want_r, r0), cfg.max_replicas)
        st.history.append((now_ms, want_r))
        while st.history[0][0] < now_ms - cfg.stabilisation_s * 1000:
            st.history.popleft()
        if want_r < st.replicas:
            want_r = max(r for _, r in st.history)
        out = []
        if want_r != st.replicas:
            out += self._command(st, "REPLICAS", float(want_r), float(want_r - r0), now_ms)
        for pool, (res, _, _, _) in POOLS.items():
            per = need[pool] * r0 / serving if pool in LOAD_POOLS else need[pool]
            v = min(max(per, cfg.min_fraction), room[pool])
            base = spec.base(res)
            rs = cfg.resources[res]
            amount = rs.round_up((v - 1.0) * base)
            held = rs.round_up((st.ratio[pool] - 1.0) * base)
            if abs(amount - held) >= max(rs.min_amount, cfg.deadband * base - 1e-9):
                out += self._command(st, res, 1.0 + amount / base, amount, now_ms)
        return out

    def _command(self, st: _Component, resource: str, value: float, amount: float,
                 now_ms: int) -> list[Record]:
        if resource in st.pending:
            return []
        spec = st.spec
        action = "RELEASE" if amount == 0.0 else "GRANT"
        unit = self.config.resources[resource].unit
        key = f"fleetsizing|{spec.id}|{resource}|{action}|{amount}|{now_ms}"
        what = f"{value:g} replicas" if resource == "REPLICAS" else f"{value:.2f}x base"
        cmd = make_command(hashlib.sha1(key.encode()).hexdigest(), spec.id, spec.host, now_ms,
                           resource, action, amount, unit, 0,
                           f"forecast demand over the lead time: {what}", 0.0, 0)
        st.pending[resource] = (cmd["command_id"], value)
        return [cmd]

    def on_outcome(self, outcome: Mapping[str, Any]) -> None:
        """APPLIED makes a command's allocation the component's; any other status drops it."""
        st = self._comps.get(str(outcome.get("component")))
        if st is None:
            return
        cid = outcome.get("command_id")
        for res, (pid, value) in list(st.pending.items()):
            if pid == cid:
                if outcome.get("status") == "APPLIED":
                    if res == "REPLICAS":
                        st.replicas = round(value)
                    else:
                        pool = next(p for p, v in POOLS.items() if v[0] == res)
                        st.ratio[pool] = value
                del st.pending[res]
                return
