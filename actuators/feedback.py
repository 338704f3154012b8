"""Feedback for the allocation engine: what its grants did, and what it learns from that.

- **Measured effect.** When a backend reports APPLIED for the GRANT that begins a lease (a
  grant or a scale-down; renewals continue it), the breach metric's level then is ``before``
  (from the RiskScore that caused it: the mean of its shortest-horizon forecast of the metric,
  else the latest HealthSignal value). Once the lease ends or ``effect_after_s`` (default: the
  risk's ``horizon_s``) has passed in event time, the level then is ``after``; once the horizon
  from the grant has passed (or a FAIL came sooner), an AllocationOutcome with the grant's
  ``command_id``, status APPLIED, detail ``"effect measured: ..."`` and ``effect`` = {metric,
  before, after, breach_avoided} is emitted, ``breach_avoided`` meaning no HealthSignal FAIL of
  that component within ``horizon_s`` of the grant.
- **Thompson sampling.** Per (component class, resource) a Beta posterior over "the grant was
  followed by no breach": Beta(1 + successes, 1 + failures), the first candidate of the
  ``metric_resources`` mapping getting ``head_start`` pseudo-successes. Candidates are ordered by
  one draw each, from a generator seeded by (component, ts); with no evidence on any candidate
  the mapping's order stands. Scale-downs are measured but do not train the posteriors.
- **Holdout.** A fraction of would-be grants is not acted on, by a hash of (component, ts).
- **Acted intervals.** When a component was under an applied lease, for labelling.

Deterministic: no wall time, no global random state; the state is a JSON-ready value.

>>> unit_hash("holdout", "web-1", 0) == unit_hash("holdout", "web-1", 0) < 1.0
True
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from actuators.config import EngineConfig
from actuators.contract import make_outcome
from actuators.pool import Lease
from schemas.errors import ContractError

Record = dict[str, Any]
ENGINE = "engine"
KEEP_FAILS = 64  # FAIL times remembered per component
KEEP_INTERVALS = 256  # acted intervals remembered per component
HEALTH_STATUSES = ("PASS", "WARN", "FAIL")


def unit_hash(*parts: object) -> float:
    """A number in [0, 1) that depends only on ``parts`` (sha256, stable across processes)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def seed_of(*parts: object) -> int:
    return int(unit_hash(*parts) * 2.0**53)


class Feedback:
    """The engine's measurements and what it learns from them (see the module docstring)."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._pending: dict[str, Record] = {}  # episode command id -> measurement under way
        self._wins: dict[tuple[str, str], list[float]] = {}  # (class, resource) -> [s, f]
        self._acted: dict[str, list[list[Any]]] = {}  # component -> [start, end|None, resource]
        self._fails: dict[str, list[int]] = {}  # component -> recent FAIL times
        self._values: dict[str, dict[str, float]] = {}  # component -> metric -> health value
        self._levels: dict[str, dict[str, float]] = {}  # component -> metric -> risk level

    # -- evidence ----------------------------------------------------------------------------

    def observe(self, risk: Mapping[str, Any]) -> None:
        """Remember the levels of the metrics a RiskScore forecasts (for ``after``)."""
        levels: dict[str, tuple[int, float]] = {}
        for f in risk.get("forecasts") or ():
            mean, horizon = float(f["mean"]), int(f["horizon_s"])
            if math.isfinite(mean) and (f["metric"] not in levels
                                        or horizon < levels[f["metric"]][0]):
                levels[str(f["metric"])] = (horizon, mean)
        if levels:
            self._levels[str(risk["component"])] = {m: v for m, (_, v) in levels.items()}

    def on_health(self, signal: Mapping[str, Any]) -> None:
        """Take a HealthSignal: a FAIL marks the measurements of its component it falls in."""
        try:
            component, ts = str(signal["component"]), int(signal["ts"])
            status, metric, value = signal["status"], str(signal["metric"]), float(signal["value"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ContractError(f"HealthSignal {dict(signal)!r} lacks a usable {exc}") from exc
        if status not in HEALTH_STATUSES:
            raise ContractError(f"HealthSignal of {component} at {ts}: status {status!r} is "
                                f"not one of {', '.join(HEALTH_STATUSES)}")
        if math.isfinite(value):
            self._values.setdefault(component, {})[metric] = value
        if status != "FAIL":
            return
        fails = self._fails.setdefault(component, [])
        fails.append(ts)
        fails.sort()
        del fails[:-KEEP_FAILS]
        for entry in self._pending.values():
            if entry["component"] == component and entry["start_ms"] <= ts <= entry["fail_by_ms"]:
                entry["failed"] = True

    def level(self, component: str, metric: str) -> float | None:
        """The metric's latest level: from the risk scores, else from the health signals."""
        found = self._levels.get(component, {}).get(metric)
        return found if found is not None else self._values.get(component, {}).get(metric)

    # -- the lease lifecycle -----------------------------------------------------------------

    def applied(self, lease: Lease) -> None:
        """A lease's first APPLIED grant: start measuring it and open an acted interval."""
        start = lease.granted_ms
        horizon_ms = max(lease.horizon_s, 0) * 1000
        after_s = self.config.effect_after_s
        due = start + (horizon_ms if after_s is None else after_s * 1000)
        fails = self._fails.get(lease.component, [])
        self._pending[lease.episode or lease.command_id] = {
            "component": lease.component,
            "resource": lease.resource,
            "metric": lease.metric,
            "klass": self.config.component_class(lease.component),
            "kind": "scale-down" if lease.amount < 0 else "grant",
            "before": lease.before,
            "start_ms": start,
            "fail_by_ms": start + horizon_ms,
            "due_ms": due,
            "after": None,
            "after_ms": None,
            "failed": any(start <= t <= start + horizon_ms for t in fails),
        }
        intervals = self._acted.setdefault(lease.component, [])
        intervals.append([start, None, lease.resource])
        del intervals[:-KEEP_INTERVALS]

    def ended(self, lease: Lease, now_ms: int) -> None:
        """A measured lease ended: its ``after`` is taken now, its acted interval closed."""
        if not lease.tracked:
            return
        entry = self._pending.get(lease.episode or lease.command_id)
        if entry is not None and entry["after_ms"] is None:
            self._take_after(entry, now_ms)
        for interval in self._acted.get(lease.component, []):
            if interval[1] is None and interval[2] == lease.resource:
                interval[1] = now_ms

    def settle(self, now_ms: int) -> list[Record]:
        """The effect outcomes complete at ``now_ms``; the posteriors learn from them."""
        out = []
        for cid in list(self._pending):
            entry = self._pending[cid]
            if entry["after_ms"] is None and now_ms >= entry["due_ms"]:
                self._take_after(entry, now_ms)
            if entry["after_ms"] is None or (not entry["failed"] and now_ms < entry["fail_by_ms"]):
                continue
            del self._pending[cid]
            avoided = not entry["failed"]
            if entry["kind"] == "grant":
                self.learn(entry["klass"], entry["resource"], avoided)
            out.append(self._effect(cid, entry, avoided, now_ms))
        return out

    def _take_after(self, entry: Record, now_ms: int) -> None:
        entry["after"] = self.level(entry["component"], entry["metric"])
        entry["after_ms"] = now_ms

    @staticmethod
    def _effect(cid: str, entry: Record, avoided: bool, now_ms: int) -> Record:
        before = entry["before"] if entry["before"] is not None else math.nan
        after = entry["after"]
        shown = "unknown" if after is None else f"{after:.4g}"
        detail = (f"effect measured: {entry['kind']} of {entry['resource']}, {entry['metric']} "
                  f"{before:.4g} -> {shown}, "
                  f"{'no FAIL' if avoided else 'FAIL'} within the horizon")
        effect = {"metric": entry["metric"], "before": float(before),
                  "after": None if after is None else float(after), "breach_avoided": avoided}
        return make_outcome(cid, entry["component"], now_ms, "APPLIED", detail, ENGINE, effect)

    # -- learning ----------------------------------------------------------------------------

    def learn(self, klass: str, resource: str, avoided: bool) -> None:
        """One outcome of a grant of ``resource`` to a component of class ``klass``."""
        wins = self._wins.setdefault((klass, resource), [0.0, 0.0])
        wins[0 if avoided else 1] += 1.0

    def evidence(self, klass: str, resource: str) -> tuple[float, float]:
        """(successes, failures) seen for a (class, resource), without the prior."""
        s, f = self._wins.get((klass, resource), (0.0, 0.0))
        return s, f

    def order(self, component: str, ts: int,
              candidates: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """The (resource, metric) candidates ordered by one posterior draw each, seeded by
        (component, ts); the mapping's order while there is no evidence on any of them."""
        cands = list(candidates)
        if not self.config.thompson or len(cands) < 2:
            return cands
        klass = self.config.component_class(component)
        counts = [self.evidence(klass, r) for r, _ in cands]
        if not any(s + f for s, f in counts):
            return cands
        rng = random.Random(seed_of("thompson", component, ts))
        draws = []
        for i, (s, f) in enumerate(counts):
            head = self.config.head_start if i == 0 else 0.0
            draws.append(rng.betavariate(1.0 + s + head, 1.0 + f))
        ranked = sorted(range(len(cands)), key=lambda i: (-draws[i], i))
        return [cands[i] for i in ranked]

    def holdout(self, component: str, ts: int) -> bool:
        """Whether the would-be grant of ``component`` at ``ts`` is held out (not acted on)."""
        return unit_hash("holdout", component, ts) < self.config.holdout

    # -- views and state ---------------------------------------------------------------------

    def acted(self, component: str) -> list[tuple[int, int | None]]:
        """When ``component`` was under an applied lease (not a holdout), merged and sorted:
        ``(start_ms, end_ms)``, ``end_ms`` None while a lease still holds."""
        merged: list[tuple[int, int | None]] = []
        for start, end, _ in sorted(self._acted.get(component, []), key=lambda i: i[0]):
            if merged:
                s0, e0 = merged[-1]
                if e0 is None or start <= e0:
                    merged[-1] = (s0, None if e0 is None or end is None else max(e0, end))
                    continue
            merged.append((start, end))
        return merged

    def pending(self) -> int:
        """How many measurements are under way."""
        return len(self._pending)

    def to_dict(self) -> Record:
        return {
            **self.shared_dict(),
            "acted": {c: [list(i) for i in v] for c, v in sorted(self._acted.items())},
            "fails": {c: list(v) for c, v in sorted(self._fails.items())},
            "values": {c: dict(v) for c, v in sorted(self._values.items())},
            "levels": {c: dict(v) for c, v in sorted(self._levels.items())},
        }

    def shared_dict(self) -> Record:
        """:meth:`to_dict` less its per-component maps (``acted``, ``fails``, ``values``,
        ``levels``: :meth:`component_dict`)."""
        return {
            "pending": [{"command_id": c, **e} for c, e in self._pending.items()],
            "wins": [[k, r, s, f] for (k, r), (s, f) in sorted(self._wins.items())],
        }

    def components(self) -> set[str]:
        """The components the per-component maps hold."""
        return set(self._acted) | set(self._fails) | set(self._values) | set(self._levels)

    def component_dict(self, component: str) -> Record:
        """``component``'s entries of the per-component maps of :meth:`to_dict`."""
        out: Record = {}
        if component in self._acted:
            out["acted"] = [list(i) for i in self._acted[component]]
        if component in self._fails:
            out["fails"] = list(self._fails[component])
        if component in self._values:
            out["values"] = dict(self._values[component])
        if component in self._levels:
            out["levels"] = dict(self._levels[component])
        return out

    def load(self, state: Mapping[str, Any]) -> None:
        self._pending = {}
        for raw in state.get("pending", []):
            entry = dict(raw)
            self._pending[str(entry.pop("command_id"))] = entry
        self._wins = {(str(k), str(r)): [float(s), float(f)]
                      for k, r, s, f in state.get("wins", [])}
        self._acted = {c: [list(i) for i in v] for c, v in state.get("acted", {}).items()}
        self._fails = {c: [int(t) for t in v] for c, v in state.get("fails", {}).items()}
        self._values = {c: dict(v) for c, v in state.get("values", {}).items()}
        self._levels = {c: dict(v) for c, v in state.get("levels", {}).items()}
