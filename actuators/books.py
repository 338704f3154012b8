"""The allocation engine's books and the context of one decision, shared by its policies.

The engine (``actuators/engine.py``) is a composition: the policies that grant, renew and
preempt (``actuators/grant.py``), ease and scale down (``actuators/easing.py``) and measure
(``actuators/feedback.py``) all read and write one :class:`Books` — the host pools and their
leases, each component's state, the preferences, the engine's own outcomes, the feedback and the
clocks — through the few primitives below (open, re-term and end a lease, make a command, defer).
The state of a decision on one risk score travels as one :class:`Decision`.

>>> priority(3, 0.5)
350
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from actuators.config import EngineConfig
from actuators.contract import command_id, make_command, make_outcome
from actuators.feedback import ENGINE, Feedback
from actuators.headroom import EPS, breach_threshold, capacity_threshold
from actuators.pool import ComponentState, Lease, Pool, Preferences
from actuators.pool import EffectivePreference as Pref
from actuators.sizing import Sizer

Record = dict[str, Any]

__all__ = ["EPS", "Books", "Decision", "Pref", "Record", "priority"]


def priority(criticality: int, risk: float) -> int:
    """Criticality first, risk breaks ties: ``100 * criticality + round(99 * risk)``."""
    return 100 * int(criticality) + round(99 * min(max(risk, 0.0), 1.0))


@dataclass(frozen=True, slots=True)
class Decision:
    """What every policy needs to know of the risk score being decided on: the score, its
    component (its state and the preference in force), the host it runs on, and its time
    (``ts``, and ``now``: the component's clock, never behind the fleet's)."""

    risk: Mapping[str, Any]
    component: str
    host: str
    pref: Pref
    comp: ComponentState
    now: int
    ts: int


class Books:
    """The engine's state and the primitives on it that every policy shares.

    ``clock_ms`` is the largest time seen; ``fleet_ms`` the clock :meth:`AllocationEngine.tick`
    moves (other components' leases end on it); ``at_ms`` the clock of the component being
    decided on, set only while the engine decides on one of its risk scores.
    """

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.pool = Pool(config.resources, config.host_capacity)
        self.sizer = Sizer(config, self.pool)
        self.prefs = Preferences(config.default_criticality)
        self.comps: dict[str, ComponentState] = {}
        self.outcomes: deque[Record] = deque(maxlen=config.outcome_buffer)
        self.feedback = Feedback(config)
        self.clock_ms: int | None = None
        self.fleet_ms: int | None = None
        self.at_ms: int | None = None

    def now(self) -> int:
        """The time commands are stamped with: the decided component's clock, else the
        largest time seen (0 before any)."""
        if self.at_ms is not None:
            return self.at_ms
        return self.clock_ms if self.clock_ms is not None else 0

    def state(self, component: str) -> ComponentState:
        return self.comps.setdefault(component, ComponentState())

    def may_change(self, comp: ComponentState, now: int) -> bool:
        return comp.changes_left(now, self.config.max_changes_per_hour) > 0

    def cooled(self, comp: ComponentState, resource: str, now: int) -> bool:
        return comp.cooled(resource, now, self.config.cooldown_s * 1000)

    def outcome(self, cid: str, component: str, now: int, status: str, detail: str) -> None:
        """Record an AllocationOutcome the engine itself decided (``backend="engine"``)."""
        self.outcomes.append(make_outcome(cid, component, now, status, detail, ENGINE))

    def defer(self, component: str, resource: str, ts: int, now: int, why: str) -> None:
        """A DEFERRED outcome for the GRANT the risk score at ``ts`` would have made."""
        self.outcome(command_id(component, resource, "GRANT", str(ts)), component, now,
                     "DEFERRED", why)

    def end(self, lease: Lease, now: int) -> None:
        self.pool.remove(lease.component, lease.resource)
        self.state(lease.component).last_end_ms[lease.resource] = now
        self.feedback.ended(lease, now)

    def command(self, lease: Lease, action: str, amount: float, key: str, reason: str,
                pref: Pref, lease_s: int) -> Record:
        return make_command(
            command_id(lease.component, lease.resource, action, key), lease.component,
            lease.host, self.now(), lease.resource, action, amount, lease.unit, lease_s, reason,
            lease.risk, priority(pref.criticality, lease.risk))

    def open(self, d: Decision, resource: str, metric: str, amount: float,
             reason: str) -> Record:
        """A new lease (a grant, or a scale-down when ``amount`` < 0) and its GRANT."""
        cfg, now, comp = self.config, self.now(), d.comp
        fallback = capacity_threshold(cfg.capacity_thresholds, metric)
        lease = Lease(d.component, resource, d.host, amount, cfg.resources[resource].unit, now,
                      now + cfg.lease_s * 1000, "", comp.risk, metric=metric,
                      threshold=breach_threshold(d.risk, metric, fallback),
                      before=self.feedback.level(d.component, metric),
                      horizon_s=int(d.risk.get("horizon_s") or 0))
        cmd = self.command(lease, "GRANT", amount, str(d.ts), reason, d.pref, cfg.lease_s)
        lease.command_id = lease.episode = cmd["command_id"]
        self.pool.put(lease)
        comp.last_grant_ms[resource] = now
        if amount > 0:  # a scale-down needs a quiet hour first: no budget of grants for it
            comp.changes_ms.append(now)
        return cmd

    def reterm(self, lease: Lease, amount: float, d: Decision, reason: str, *,
               stepped: bool, counts: bool) -> Record:
        """New terms for a held lease (a renewal, a step-down, an extension) as one GRANT;
        the earlier terms are kept (``prev``) to fall back to if it fails. ``counts``: whether
        it uses one of ``max_changes_per_hour``."""
        prev = {"amount": lease.amount, "end_ms": lease.end_ms, "granted_ms": lease.granted_ms,
                "command_id": lease.command_id, "confirmed": lease.confirmed}
        lease_s, comp = self.config.lease_s, d.comp
        renewed = replace(lease, amount=amount, granted_ms=d.now,
                          end_ms=d.now + lease_s * 1000, command_id="", risk=comp.risk,
                          confirmed=False, prev=prev, stepped=stepped)
        cmd = self.command(renewed, "GRANT", amount, str(d.ts), reason, d.pref, lease_s)
        renewed.command_id = cmd["command_id"]
        self.pool.put(renewed)
        comp.last_grant_ms[lease.resource] = d.now
        if counts:
            comp.changes_ms.append(d.now)
        return cmd
