"""The simulated fleet's command side: AllocationCommand dicts in, AllocationOutcome dicts out.

:class:`Commands` is a part of :class:`streams.sim.simulator.Fleet` (a mixin over the fleet's
state): a command changes a (component, resource)'s lease, which acts after the resource's
provisioning delay (docs/simulator.md, "Provisioning delays"), bounded by the host's spare
capacity (``HOST_HEADROOM``) when it is a vertical (cgroup/tc) change.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from actuators.contract import make_outcome
from streams.sim.incidents import (
    METRICS,
    POOL_UNIT,
    RESOURCES,
    Scenario,
    capacity_delta,
    provisioning,
)

_COL = {m: j for j, m in enumerate(METRICS)}

@dataclass
class _Grant:
    """A (component, resource)'s lease: ``delta`` over base as commanded; ``prev`` acts until
    ``effective_ms``, then an increase serves linearly more until ``warm_ms``."""

    command_id: str
    comp: int
    resource: str
    pool: str
    delta: float
    expires_ms: int | None
    prev: float = 0.0
    effective_ms: int = 0
    warm_ms: int = 0

    def value(self, t: int) -> float:
        """The capacity over base in force at ``t``."""
        if t < self.effective_ms:
            return self.prev
        if t < self.warm_ms and self.delta > self.prev:
            w = (t - self.effective_ms) / (self.warm_ms - self.effective_ms)
            return self.prev + w * (self.delta - self.prev)
        return self.delta



class Commands:
    """The command half of :class:`~streams.sim.simulator.Fleet`."""

    scenario: Scenario
    _now: int
    _ids: list[str]
    _index: dict[str, int]
    _grants: dict[tuple[int, str], _Grant]
    _outcomes: dict[str, dict[str, Any]]
    _log: list[dict[str, Any]]
    _last: np.ndarray
    _p: dict[str, np.ndarray]

    _caps: Callable[..., None]  # the fleet's: recompute the capacities in force

    def apply(self, command: Mapping[str, Any]) -> dict[str, Any]:
        """Apply an AllocationCommand from the next step on; idempotent by ``command_id``."""
        cid = str(command.get("command_id", ""))
        if cid and cid in self._outcomes:
            return _copy_outcome(self._outcomes[cid])
        outcome = self._apply(cid, command)
        if cid:
            self._outcomes[cid] = outcome
        return _copy_outcome(outcome)

    def _apply(self, cid: str, cmd: Mapping[str, Any]) -> dict[str, Any]:
        comp_id = str(cmd.get("component", ""))
        resource, action = cmd.get("resource"), cmd.get("action")
        i = self._index.get(comp_id)
        problem = ""
        if not cid:
            problem = "command has no command_id"
        elif i is None:
            problem = f"unknown component {comp_id!r} in scenario {self.scenario.name!r}"
        elif resource not in RESOURCES:
            problem = f"unknown resource {resource!r}; known: {sorted(RESOURCES)}"
        elif action not in ("GRANT", "RELEASE", "PREEMPT"):
            problem = f"unknown action {action!r}"
        if problem or i is None:
            return self._rejected(cid, comp_id, problem)
        pool, metric, default_unit = RESOURCES[str(resource)]
        unit = str(cmd.get("unit") or default_unit).strip().lower()
        amount = float(cmd.get("amount", 0.0))
        delta = capacity_delta(pool, unit, amount, self.scenario.components[i])
        if delta is None:
            return self._rejected(cid, comp_id, f"unit {unit!r} not understood for {resource}")
        before = float(self._last[i, _COL[metric]])
        key = (i, str(resource))
        old = self._grants.get(key)
        if action == "GRANT":
            if not (math.isfinite(delta) and delta != 0.0):
                return self._rejected(cid, comp_id, (
                    f"GRANT needs a non-zero finite amount, got {amount} {unit} "
                    "(RELEASE returns to the base capacity)"))
            lease_s = int(cmd.get("lease_s", 0) or 0)
            expires = self._now + 1000 * lease_s if lease_s > 0 else None
            grant = self._change(cid, i, str(resource), pool, delta, expires, old)
            was = f", replacing {old.delta:+.3g}" if old is not None and old.delta else ""
            detail = (f"granted {amount:g} {cmd.get('unit') or default_unit} of {resource} to "
                      f"{comp_id} ({delta:+.3g} {POOL_UNIT[pool]} over base{was})")
        else:
            released = old.delta if old is not None else 0.0
            grant = self._change(cid, i, str(resource), pool, 0.0, None, old)
            verb = "released" if action == "RELEASE" else "preempted"
            detail = (f"{verb} {released:+.3g} {POOL_UNIT[pool]} of {resource} on {comp_id}: "
                      "back to base")
        if grant.effective_ms > self._now:
            detail += f"; acts in {(grant.effective_ms - self._now) / 1000:g} s"
        if grant.warm_ms > grant.effective_ms and grant.delta > grant.prev:
            detail += f", fully warm {(grant.warm_ms - grant.effective_ms) / 1000:g} s later"
        self._caps()
        self._log.append({"ts_ms": self._now, "command_id": cid, "event": action,
                          "component": comp_id, "resource": resource, "amount": amount,
                          "unit": unit, "effective_ms": grant.effective_ms})
        return make_outcome(cid, comp_id, self._now, "APPLIED", detail, "simulator",
                            {"metric": metric, "before": before, "after": None,
                             "breach_avoided": None})

    def _rejected(self, cid: str, comp_id: str, detail: str) -> dict[str, Any]:
        return make_outcome(cid, comp_id, self._now, "REJECTED", detail, "simulator")

    def _change(self, cid: str, i: int, resource: str, pool: str, delta: float,
                expires: int | None, old: _Grant | None) -> _Grant:
        """The lease of (component ``i``, ``resource``) becomes ``delta`` over base, acting
        after the resource's provisioning delay on the scenario's platform (an increase: a
        delay drawn per command, seeded by the scenario's seed and the command id, then the
        warm-up; a decrease: ``down_s``). An increase still under way when a larger one comes
        keeps its start (the instances already booting serve the larger one first)."""
        now = self._now
        prev = old.value(now) if old is not None else 0.0
        prov = provisioning(self.scenario.platform, resource)
        if delta > prev:
            u = np.random.Generator(np.random.PCG64(
                [self.scenario.seed, zlib.crc32(cid.encode())])).uniform()
            effective = now + round(1000 * (prov.up_lo_s + u * (prov.up_hi_s - prov.up_lo_s)))
            if old is not None and old.delta > old.prev and now < old.effective_ms:
                effective = min(effective, old.effective_ms)
            warm = effective + round(1000 * prov.warmup_s)
        else:
            effective = warm = now + round(1000 * prov.down_s)
        grant = _Grant(cid, i, resource, pool, delta, expires, prev, effective, warm)
        self._grants[(i, resource)] = grant
        return grant

    def pending(self) -> dict[tuple[str, str], tuple[float, int]]:
        """Changes not yet in full force: (component, resource) -> (capacity over base in
        force now, when the change is complete in ms)."""
        t = self._now
        return {(self._ids[g.comp], g.resource): (g.value(t), max(g.effective_ms, g.warm_ms))
                for g in self._grants.values() if max(g.effective_ms, g.warm_ms) > t}

    def replicas(self) -> dict[str, tuple[int, int]]:
        """Per component: (replicas ready now, replicas as commanded). A replica is ready once
        its provisioning delay has passed (it may still be warming up), as Kubernetes' pod
        readiness or an instance's InService state says; what an autoscaler reads."""
        t = self._now
        out = {}
        for i, cid in enumerate(self._ids):
            r0 = int(self._p["replicas"][i])
            g = self._grants.get((i, "REPLICAS"))
            if g is None:
                out[cid] = (r0, r0)
                continue
            ready = g.delta if t >= g.effective_ms else g.prev
            out[cid] = (max(r0 + math.floor(ready + 1e-9), 1), max(r0 + round(g.delta), 1))
        return out

    def grants(self) -> dict[tuple[str, str], float]:
        """The leases as commanded: (component, resource) -> capacity over base, in the pool's
        unit (negative: a scale-down); :meth:`pending` says which have not fully acted yet."""
        return {(self._ids[g.comp], g.resource): g.delta for g in self._grants.values()
                if g.delta != 0.0}


def _copy_outcome(o: dict[str, Any]) -> dict[str, Any]:
    return {**o, "effect": dict(o["effect"]) if o["effect"] else None}

