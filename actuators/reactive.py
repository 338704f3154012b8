"""A reactive baseline policy, after Kubernetes' HorizontalPodAutoscaler: observed metric values
in, allocation commands out, over the same command contract as the allocation engine.

Per component and capacity pool (cpu, mem, io, net), on every observed sample::

    recommendation = allocation * utilisation / target     (allocation: 1 = the base capacity)

and no change while ``utilisation / target`` is within ``tolerance`` of 1 (the recommendation is
then the allocation itself). A recommendation above the allocation is acted on at once; for a
decrease the policy takes the largest recommendation of the last ``stabilisation_s`` (HPA's
scale-down stabilisation window), so a dip must last that long before capacity goes. The first
sample of a (component, pool) counts as a recommendation to keep the allocation.

Each pool is driven through one resource (``POOL_RESOURCES``); a GRANT's amount is the
allocation's extra over the base capacity in that resource's unit (negative below base), and it
replaces the previous grant (``actuators/backends/base.py``); back at base the policy sends a
RELEASE. Amounts are bounded as the engine's are: the host's pool lends at most its
``capacity`` of the resource (``actuators/pool.py``), and a scale-down keeps ``min_fraction``
of the base. While a command is in flight (no outcome yet), the pool is left alone.

Pure and deterministic (no clock, no I/O): command ids hash the component, resource, action and
the sample's ``ts``.

>>> policy = ReactivePolicy()
>>> s = {"component": "web-1", "host": "web-1", "ts": 10_000, "metrics": {"cpu.util": 1.0}}
>>> [(c["resource"], c["action"], c["amount"]) for c in policy.on_sample(s)]
[('CPU_WEIGHT', 'GRANT', 43.0)]
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from actuators.contract import make_command
from actuators.pool import DEFAULT_RESOURCES, ResourceSpec
from schemas.errors import ConfigError

Record = dict[str, Any]

# pool -> (resource that drives it, metric observed, metric value -> utilisation in 0..1)
POOL_RESOURCES: dict[str, tuple[str, str, float]] = {
    "cpu": ("CPU_WEIGHT", "cpu.util", 1.0),
    "mem": ("MEMORY_HIGH", "mem.used_pct", 0.01),
    "io": ("IO_WEIGHT", "disk.io_util", 1.0),
    "net": ("NET_BANDWIDTH", "net.util", 1.0),
}
_EPS = 1e-9

__all__ = ["POOL_RESOURCES", "ReactiveConfig", "ReactivePolicy"]


def _default_targets() -> dict[str, float]:
    return {"cpu": 0.7, "mem": 0.7, "io": 0.7, "net": 0.7}


@dataclass(frozen=True)
class ReactiveConfig:
    """The policy's knobs: target utilisation per pool, HPA's tolerance and scale-down window,
    the floor of a scale-down (a fraction of base) and the pools' capacities (the engine's)."""

    targets: Mapping[str, float] = field(default_factory=_default_targets)
    tolerance: float = 0.1
    stabilisation_s: int = 300
    min_fraction: float = 0.1
    resources: Mapping[str, ResourceSpec] = field(default_factory=lambda: DEFAULT_RESOURCES)
    host_capacity: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        unknown = sorted(set(self.targets) - set(POOL_RESOURCES))
        if unknown:
            problems.append(f"unknown pools {unknown}; known: {sorted(POOL_RESOURCES)}")
        if any(not 0.0 < t <= 1.0 for t in self.targets.values()):
            problems.append("targets must be within (0, 1]")
        if not 0.0 <= self.tolerance < 1.0 or self.stabilisation_s < 0:
            problems.append("need 0 <= tolerance < 1 and stabilisation_s >= 0")
        if not 0.0 < self.min_fraction <= 1.0:
            problems.append("min_fraction must be within (0, 1]")
        missing = [POOL_RESOURCES[p][0] for p in self.targets
                   if p in POOL_RESOURCES and POOL_RESOURCES[p][0] not in self.resources]
        if missing:
            problems.append(f"resources lack {missing}")
        if problems:
            raise ConfigError("ReactiveConfig: " + "; ".join(problems))


@dataclass
class _PoolState:
    amount: float = 0.0  # applied extra over base, in the resource's unit
    pending: tuple[str, float] | None = None  # (command_id, amount) awaiting its outcome
    history: deque[tuple[int, float]] = field(default_factory=deque)  # (ts, recommendation)


class ReactivePolicy:
    """HPA-style scaling of each component's pools on their observed utilisation.

    ``base[component][resource]`` is the component's base capacity in the resource's unit
    (what an allocation of 1 means); missing entries default to the resource's ``baseline``.
    """

    def __init__(self, config: ReactiveConfig | None = None,
                 base: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self.config = config if config is not None else ReactiveConfig()
        self._base = {c: dict(v) for c, v in (base or {}).items()}
        self._state: dict[tuple[str, str], _PoolState] = {}
        self._hosts: dict[str, str] = {}

    def on_sample(self, sample: Mapping[str, Any]) -> list[Record]:
        """Commands for one observed MetricSample dict (at most one per pool)."""
        component, ts = str(sample["component"]), int(sample["ts"])
        host = str(sample.get("host") or component.split("/", 1)[0])
        self._hosts[component] = host
        metrics = sample.get("metrics") or {}
        out = []
        for pool, target in sorted(self.config.targets.items()):
            resource, metric, scale = POOL_RESOURCES[pool]
            value = metrics.get(metric)
            if not isinstance(value, int | float) or not math.isfinite(value):
                continue
            cmd = self._decide(component, host, pool, resource, float(value) * scale, target, ts)
            if cmd is not None:
                out.append(cmd)
        return out

    def on_outcome(self, outcome: Mapping[str, Any]) -> None:
        """APPLIED makes a command's amount the allocation; any other status drops it."""
        cid = outcome.get("command_id")
        for st in self._state.values():
            if st.pending is not None and st.pending[0] == cid:
                if outcome.get("status") == "APPLIED":
                    st.amount = st.pending[1]
                st.pending = None
                return

    def allocations(self) -> dict[tuple[str, str], float]:
        """Applied allocations over base, (component, resource) -> amount; zeros left out."""
        out = {}
        for (component, pool), st in sorted(self._state.items()):
            if st.amount != 0.0:
                out[(component, POOL_RESOURCES[pool][0])] = st.amount
        return out

    # -- decisions ---------------------------------------------------------------------------

    def base(self, component: str, resource: str) -> float:
        """What an allocation of 1 is for ``component``, in the resource's unit."""
        got = self._base.get(component, {}).get(resource)
        return float(got) if got is not None else self.config.resources[resource].baseline

    def _decide(self, component: str, host: str, pool: str, resource: str, util: float,
                target: float, ts: int) -> Record | None:
        cfg = self.config
        st = self._state.setdefault((component, pool), _PoolState())
        if st.pending is not None:
            return None  # the sample shows the allocation before the command in flight
        base = self.base(component, resource)
        if base <= 0:
            return None
        ratio = 1.0 + st.amount / base
        if not st.history:
            st.history.append((ts, ratio))  # the allocation found counts as a recommendation
        rec = ratio if abs(util / target - 1.0) <= cfg.tolerance else ratio * util / target
        rec = min(max(rec, cfg.min_fraction), 1.0 + self._room(component, host, resource) / base)
        st.history.append((ts, rec))
        while st.history and st.history[0][0] < ts - cfg.stabilisation_s * 1000:
            st.history.popleft()
        desired = rec if rec > ratio else max(r for _, r in st.history)
        spec = cfg.resources[resource]
        amount = spec.round_up((desired - 1.0) * base)
        amount = max(amount, spec.round_up((cfg.min_fraction - 1.0) * base))
        if abs(amount - st.amount) < spec.min_amount - _EPS and not (amount == 0 < abs(st.amount)):
            return None
        if amount == st.amount:
            return None
        action = "RELEASE" if amount == 0.0 else "GRANT"
        cmd = self._command(component, host, resource, action, amount, ts, util, target, ratio)
        st.pending = (cmd["command_id"], amount)
        return cmd

    def _room(self, component: str, host: str, resource: str) -> float:
        """The most ``component`` may hold over base: the host's pool less the others' grants."""
        cap = self.config.host_capacity.get(host, {}).get(resource)
        cap = float(cap) if cap is not None else self.config.resources[resource].capacity
        pool = next(p for p, (r, _, _) in POOL_RESOURCES.items() if r == resource)
        others = 0.0
        for (comp, p), st in self._state.items():
            if p == pool and comp != component and self._hosts.get(comp) == host:
                held = max(st.amount, st.pending[1] if st.pending else st.amount)
                others += max(held, 0.0)
        return max(cap - others, 0.0)

    def _command(self, component: str, host: str, resource: str, action: str, amount: float,
                 ts: int, util: float, target: float, ratio: float) -> Record:
        key = f"reactive|{component}|{resource}|{action}|{ts}"
        unit = self.config.resources[resource].unit
        reason = (f"utilisation {util:.2f} vs target {target:g} at allocation {ratio:.2f}: "
                  f"{amount:+g} {unit} over base")
        return make_command(hashlib.sha1(key.encode()).hexdigest(), component, host, ts,
                            resource, action, amount, unit, 0, reason, 0.0, 0)
