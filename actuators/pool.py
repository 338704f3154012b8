"""The engine's books: each host's resource pool, the leases drawn from it, and the operators'
preferences. Pure bookkeeping, no policy.

Every resource of the ``AllocationCommand`` contract has a :class:`ResourceSpec`: its unit, the
baseline a component holds without any lease (the starting point of sizing), the capacity that
one host lends out in leases, and the smallest step worth granting. A lease amount is always the
*extra* over the baseline; ``Pool.used(host, resource)`` is the sum of the leases on that host,
and :meth:`Pool.put` refuses any lease that would take it over the capacity. A negative amount
is a scale-down (the component holds less than its baseline, never less than nothing): it lends
nothing out, so it never counts as used capacity (nor frees any for others).

>>> pool = Pool(DEFAULT_RESOURCES, {})
>>> pool.capacity("web-1", "CPU_WEIGHT")
10000.0
>>> pool.put(Lease("web-1/db", "CPU_WEIGHT", "web-1", 400.0, "weight", 0, 900_000, "c1"))
>>> pool.free("web-1", "CPU_WEIGHT")
9600.0
"""

from __future__ import annotations

import copy
import fnmatch
import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from schemas.errors import ConfigError

RESOURCES = (
    "CPU_WEIGHT",
    "CPU_QUOTA",
    "CPU_AFFINITY",
    "NICE",
    "MEMORY_HIGH",
    "NET_BANDWIDTH",
    "IO_WEIGHT",
    "REPLICAS",
)
_EPS = 1e-9


@dataclass(frozen=True)
class ResourceSpec:
    """How one resource is measured and lent out on each host (fleet default)."""

    unit: str
    baseline: float  # what a component holds without a lease; sizing scales from it
    capacity: float  # the most one host lends out in leases, summed over its components
    min_amount: float = 1.0  # smallest grant (or growth) worth a command
    integral: bool = True  # amounts are whole numbers

    def __post_init__(self) -> None:
        if self.baseline < 0 or self.capacity < 0 or self.min_amount <= 0:
            raise ConfigError(
                f"resource spec {self}: baseline and capacity must be >= 0, min_amount > 0"
            )

    def round_up(self, amount: float) -> float:
        return float(math.ceil(amount - _EPS)) if self.integral else amount

    def round_down(self, amount: float) -> float:
        return float(math.floor(amount + _EPS)) if self.integral else amount


# cgroup v2 weights range 1..10000 with 100 as default; the others are fleet-typical hosts.
DEFAULT_RESOURCES: Mapping[str, ResourceSpec] = MappingProxyType(
    {
        "CPU_WEIGHT": ResourceSpec("weight", 100.0, 10000.0),
        "CPU_QUOTA": ResourceSpec("millicores", 1000.0, 8000.0, min_amount=50.0),
        "CPU_AFFINITY": ResourceSpec("cpus", 1.0, 8.0),
        "NICE": ResourceSpec("levels", 5.0, 20.0),
        "MEMORY_HIGH": ResourceSpec("MiB", 1024.0, 16384.0, min_amount=64.0),
        "NET_BANDWIDTH": ResourceSpec("Mbit/s", 100.0, 1000.0, min_amount=5.0),
        "IO_WEIGHT": ResourceSpec("weight", 100.0, 10000.0),
        "REPLICAS": ResourceSpec("replicas", 1.0, 10.0),
    }
)


@dataclass
class Lease:
    """An amount of one resource lent to one component on one host until ``end_ms``.

    ``command_id`` names the GRANT that set the current terms; ``prev`` holds the terms before
    it (amount, end_ms, granted_ms, command_id, confirmed), so a renewal the backend could not
    apply falls back to what was in force.

    The rest is what the engine's feedback needs: ``metric`` and ``threshold`` the breach the
    lease answers (judged again before a release), ``episode`` the command id of the GRANT that
    began it (renewals keep it), ``before`` the metric's level then, ``horizon_s`` the risk's
    horizon, ``tracked`` whether its effect is being measured, ``stepped`` whether it was
    stepped down without a forecast to go by.
    """

    component: str
    resource: str
    host: str
    amount: float
    unit: str
    granted_ms: int
    end_ms: int
    command_id: str
    risk: float = 0.0  # the component's latest risk, for its priority as a preemption victim
    confirmed: bool = False  # a backend reported APPLIED for command_id
    prev: dict[str, Any] | None = field(default=None)
    metric: str = ""
    threshold: float | None = None
    episode: str = ""
    before: float | None = None
    horizon_s: int = 0
    tracked: bool = False
    stepped: bool = False

    def to_dict(self) -> dict[str, Any]:
        # what asdict gives, a tenth of its time: the engine's state file writes one per lease
        out = {name: getattr(self, name) for name in _LEASE_FIELDS}
        if self.prev is not None:
            out["prev"] = copy.deepcopy(self.prev)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Lease:
        return cls(**dict(raw))


class Pool:
    """Capacity per host and resource, and the leases drawn from it.

    Capacity is ``host_capacity[host][resource]`` where given, else the fleet default of the
    resource spec. Leases are keyed by (component, resource): a component holds at most one
    lease per resource.
    """

    def __init__(
        self,
        resources: Mapping[str, ResourceSpec],
        host_capacity: Mapping[str, Mapping[str, float]],
    ) -> None:
        self.resources = resources
        self.host_capacity = host_capacity
        self._leases: dict[tuple[str, str], Lease] = {}
        self._by_slot: dict[tuple[str, str], set[tuple[str, str]]] = {}
        self._by_component: dict[str, set[str]] = {}
        self._ends: list[tuple[int, str, str]] = []  # heap of (end_ms, component, resource)

    def capacity(self, host: str, resource: str) -> float:
        override = self.host_capacity.get(host, {})
        if resource in override:
            return float(override[resource])
        spec = self.resources.get(resource)
        return spec.capacity if spec is not None else 0.0

    def used(self, host: str, resource: str) -> float:
        keys = self._by_slot.get((host, resource), ())
        return float(sum(max(self._leases[k].amount, 0.0) for k in keys))

    def free(self, host: str, resource: str) -> float:
        return max(0.0, self.capacity(host, resource) - self.used(host, resource))

    def fits(self, host: str, resource: str, amount: float) -> bool:
        return amount <= self.free(host, resource) + _EPS

    def get(self, component: str, resource: str) -> Lease | None:
        return self._leases.get((component, resource))

    def put(self, lease: Lease, *, force: bool = False) -> None:
        """Add or replace the lease of (component, resource); never over capacity unless
        ``force`` (a restored lease is a real allocation even if capacity shrank since)."""
        key = (lease.component, lease.resource)
        old = self._leases.get(key)
        held = max(old.amount, 0.0) if old is not None and old.host == lease.host else 0.0
        spec = self.resources.get(lease.resource)
        floor = -spec.baseline if spec is not None else 0.0
        if lease.amount < floor - _EPS or not (
            force or self.fits(lease.host, lease.resource, max(lease.amount, 0.0) - held)
        ):
            raise ValueError(
                f"lease {lease.component} {lease.resource}={lease.amount} does not fit host "
                f"{lease.host}: {self.free(lease.host, lease.resource) + held} free"
            )
        if old is not None:
            self.remove(lease.component, lease.resource)
        self._leases[key] = lease
        self._by_slot.setdefault((lease.host, lease.resource), set()).add(key)
        self._by_component.setdefault(lease.component, set()).add(lease.resource)
        heapq.heappush(self._ends, (lease.end_ms, lease.component, lease.resource))

    def remove(self, component: str, resource: str) -> Lease | None:
        lease = self._leases.pop((component, resource), None)
        if lease is not None:
            slot = self._by_slot[(lease.host, lease.resource)]
            slot.discard((component, resource))
            if not slot:
                del self._by_slot[(lease.host, lease.resource)]
            held = self._by_component[component]
            held.discard(resource)
            if not held:
                del self._by_component[component]
        return lease

    def on_slot(self, host: str, resource: str) -> list[Lease]:
        """The leases on one host and resource, in a stable order."""
        return [self._leases[k] for k in sorted(self._by_slot.get((host, resource), ()))]

    def of_component(self, component: str) -> list[Lease]:
        held = sorted(self._by_component.get(component, ()))
        return [self._leases[(component, r)] for r in held]

    def ending_by(self, now_ms: int) -> list[Lease]:
        """Leases whose term ends at or before ``now_ms``, earliest first (a heap, so a call
        costs nothing when none is due)."""
        due: dict[tuple[str, str], Lease] = {}
        while self._ends and self._ends[0][0] <= now_ms:
            end_ms, component, resource = heapq.heappop(self._ends)
            lease = self._leases.get((component, resource))
            if lease is not None and lease.end_ms == end_ms:
                due[(component, resource)] = lease  # entries of replaced leases are dropped
        for lease in due.values():  # still held until the caller removes them
            heapq.heappush(self._ends, (lease.end_ms, lease.component, lease.resource))
        return list(due.values())

    def all(self) -> list[Lease]:
        return [self._leases[k] for k in sorted(self._leases)]

    def clear(self) -> None:
        self._leases.clear()
        self._by_slot.clear()
        self._by_component.clear()
        self._ends.clear()


@dataclass
class ComponentState:
    """What the engine remembers of one component between its risk scores (event time, ms)."""

    last_risk_ts: int | None = None
    risk: float = 0.0
    low_since_ms: int | None = None  # risk has been <= release_threshold since
    changes_ms: list[int] = field(default_factory=list)  # amount changes within the last hour
    last_grant_ms: dict[str, int] = field(default_factory=dict)  # per resource
    last_end_ms: dict[str, int] = field(default_factory=dict)  # per resource
    quiet_since_ms: dict[str, int] = field(default_factory=dict)  # per metric, for scale-down
    holdout_until_ms: int | None = None  # would-be grants are withheld until then
    # added to risk_threshold for this component: raised by operators' false-positive
    # verdicts on its alarms, lowered by true-positive ones (AllocationEngine.on_feedback)
    alarm_offset: float = 0.0

    def cooled(self, resource: str, now_ms: int, cooldown_ms: int) -> bool:
        """Whether ``cooldown_ms`` has passed since the resource was last granted and since
        any lease of the component ended (no GRANT -> RELEASE -> GRANT, whatever resource)."""
        last = max(self.last_grant_ms.get(resource, now_ms - cooldown_ms),
                   max(self.last_end_ms.values(), default=now_ms - cooldown_ms))
        return now_ms - last >= cooldown_ms

    def changes_left(self, now_ms: int, per_hour: int) -> int:
        self.changes_ms = [t for t in self.changes_ms if now_ms - t < 3_600_000]
        return per_hour - len(self.changes_ms)

    def to_dict(self) -> dict[str, Any]:
        # asdict's value (fields hold scalars, or lists and maps of them), without its cost
        out = {name: getattr(self, name) for name in _COMPONENT_FIELDS}
        return {k: v.copy() if isinstance(v, list | dict) else v for k, v in out.items()}


_LEASE_FIELDS = tuple(f.name for f in fields(Lease))
_COMPONENT_FIELDS = tuple(f.name for f in fields(ComponentState))


@dataclass(frozen=True)
class EffectivePreference:
    """The preference in force for one component (``selector`` None: the defaults)."""

    selector: str | None
    criticality: int
    allowed: frozenset[str] | None  # None: every resource
    maxima: Mapping[str, float]  # resource -> largest lease amount
    paused: bool

    def to_dict(self) -> dict[str, Any]:
        allowed = None if self.allowed is None else sorted(self.allowed)
        return {"selector": self.selector, "criticality": self.criticality,
                "allowed_resources": allowed, "maxima": dict(self.maxima), "paused": self.paused}


def specificity(selector: str, component: str) -> tuple[int, int]:
    """An exact id beats any glob; among globs, the one with more literal characters wins."""
    if selector == component:
        return (1, len(selector))
    return (0, sum(ch not in "*?[]!" for ch in selector))


class Preferences:
    """Preference records by selector; a component follows its most specific match.

    >>> prefs = Preferences(default_criticality=5)
    >>> prefs.put({"selector": "web-*", "ts": 1, "criticality": 4})
    >>> prefs.put({"selector": "web-1/*", "ts": 0, "criticality": 9, "paused": True})
    >>> prefs.resolve("web-1/db").criticality, prefs.resolve("web-2").criticality
    (9, 4)
    """

    def __init__(self, default_criticality: int) -> None:
        self.default = EffectivePreference(None, default_criticality, None, {}, False)
        self._by_selector: dict[str, dict[str, Any]] = {}
        self._resolved: dict[str, EffectivePreference] = {}

    def put(self, pref: Mapping[str, Any]) -> None:
        """Take a Preference record; per selector the latest ``ts`` wins (ties: the later).
        A criticality outside 0..10 is clamped: one bad record must not stop the actuator."""
        selector, ts = str(pref["selector"]), int(pref["ts"])
        crit = min(max(int(pref["criticality"]), 0), 10)
        old = self._by_selector.get(selector)
        if old is not None and ts < old["ts"]:
            return
        allowed = pref.get("allowed_resources")
        self._by_selector[selector] = {
            "selector": selector,
            "ts": ts,
            "criticality": crit,
            "allowed_resources": None if allowed is None else sorted({str(r) for r in allowed}),
            "maxima": {str(k): float(v) for k, v in (pref.get("maxima") or {}).items()},
            "paused": bool(pref.get("paused", False)),
        }
        self._resolved.clear()

    def forget(self, selector: str) -> None:
        """Drop a selector (a tombstone on the compacted topic)."""
        if self._by_selector.pop(selector, None) is not None:
            self._resolved.clear()

    def resolve(self, component: str) -> EffectivePreference:
        hit = self._resolved.get(component)
        if hit is None:
            hit = self._resolved[component] = self._match(component)
        return hit

    def _match(self, component: str) -> EffectivePreference:
        matches = [
            (specificity(sel, component), p["ts"], sel, p)
            for sel, p in self._by_selector.items()
            if sel == component or fnmatch.fnmatchcase(component, sel)
        ]
        if not matches:
            return self.default
        p = max(matches, key=lambda m: m[:3])[3]
        allowed = None if p["allowed_resources"] is None else frozenset(p["allowed_resources"])
        return EffectivePreference(
            p["selector"], p["criticality"], allowed, dict(p["maxima"]), p["paused"]
        )

    def records(self) -> list[dict[str, Any]]:
        return [dict(p) for _, p in sorted(self._by_selector.items())]

    def load(self, records: list[dict[str, Any]]) -> None:
        self._by_selector = {str(p["selector"]): dict(p) for p in records}
        self._resolved.clear()
