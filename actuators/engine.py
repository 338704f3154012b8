"""The allocation engine: risk scores in, allocation commands out.

Pure and deterministic: plain dicts in and out, no I/O, and only event time — the ``ts`` of
each risk score and the ``now_ms`` given to :meth:`AllocationEngine.tick`; the engine's clock is
the largest of them seen so far, and every command is stamped with it.

Per risk score of a component that is not paused:

- **grant** when ``risk >= risk_threshold`` and ``criticality >= min_criticality``: choose a
  resource (from the breach metric, else the heaviest contributor that maps to one; the
  candidates of ``metric_resources`` in order, filtered by the preference's
  ``allowed_resources`` and maxima), size it, and GRANT it if the host's pool holds it;
  otherwise PREEMPT lower-priority leases of less critical components when
  ``criticality >= preempt_criticality``, else DEFER (an outcome from :meth:`drain_outcomes`).
- **renew** a held lease while risk stays high, ``cooldown_s`` after its last grant, when the
  sizing asks for more (it grows into free capacity only) or less than half its term is left.
- **release, step down or keep** (``actuators/easing.py``) when risk has stayed
  ``<= release_threshold`` for ``release_hold_s``: released only when the forecast says the
  component stays under its threshold (with ``margin``) without the lease, else stepped down in
  halves at most, or kept and extended; between the two thresholds nothing changes but keeping
  a lease the forecast still needs (hysteresis). :meth:`tick` releases leases that end.
- **scale down** (a GRANT of a negative amount, below the baseline) a component whose forecast
  stays far under its capacity thresholds for ``shrink_hold_s``; **revert** it at once (RELEASE,
  outcome REVERTED) when its metric regresses.
- **feedback** (``actuators/feedback.py``): the effect of each applied grant is measured and
  reported; candidates are ordered by Thompson sampling over those effects; a ``holdout``
  fraction of would-be grants is not acted on (a DEFERRED outcome whose detail starts
  "holdout"), so some labels stay honest; :meth:`acted` says when a component was under a lease.

Sizing (``actuators/sizing.py``): the allocation grows so that the forecast peak of the breach
metric lands under its threshold with ``margin`` to spare, by at most ``max_growth``; the lease
is capped by the preference's ``maxima[resource]`` and must fit the host's pool.

No flapping: consecutive commands about one (component, resource) are at least ``cooldown_s``
apart (a grant is not renewed, released or preempted sooner), a component gets no GRANT within
``cooldown_s`` after any of its leases ended (whatever the resource), a failed renewal is not
retried sooner, and grants that change an amount are held to ``max_changes_per_hour`` per
component. A paused component gets no command at all, expiry included, until it is resumed.
The one exception to the cooldowns is a revert: a scale-down that regresses goes at once, and
a grant may follow it at once (both give the component more: nothing to flap).

Priority is ``100 * criticality + round(99 * risk)``: criticality first, risk breaks ties.
The policy in prose, with every knob and why: ``docs/allocation.md``.

The engine is a composition: its policies (:class:`~actuators.grant.Grant` with its
:class:`~actuators.grant.Renew` and :class:`~actuators.grant.Preempt`,
:class:`~actuators.easing.Ease`, :class:`~actuators.easing.ScaleDown`, and
:class:`~actuators.feedback.Feedback`) share one :class:`~actuators.books.Books` (pools,
components, preferences, outcomes, clocks), and each decision on a risk score is one
:class:`~actuators.books.Decision`. This class holds the public API, expiry and the state.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from actuators.admission import Admission
from actuators.books import Books, Decision, Record, priority
from actuators.config import EngineConfig
from actuators.contract import command_id
from actuators.easing import Ease, ScaleDown
from actuators.feedback import ENGINE, Feedback
from actuators.grant import Grant
from actuators.pool import ComponentState, Lease
from actuators.signal import signal
from schemas.errors import ContractError

SNAPSHOT_VERSION = 2  # 1: before feedback and scale-down (still read: nothing learnt yet)

__all__ = ["ENGINE", "AllocationEngine", "EngineConfig", "command_id", "priority"]


FEEDBACK_STEP = 0.05  # alarm point moved per operator verdict (on_feedback)
FEEDBACK_CAP = 0.3  # at most this far over risk_threshold


class AllocationEngine:
    """Turns risk scores into allocation commands, one host pool per (host, resource).

    Not thread-safe; feed it from one loop. Its state is a value: :meth:`snapshot` and
    :meth:`restore` move it between processes.
    """

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config if config is not None else EngineConfig()
        # Each component's decisions run on its own clock (its risk scores' ts); other
        # components' leases end on the fleet's clock, moved only by tick(): one skewed host
        # never moves the decisions of another.
        self._books = Books(self.config)
        self._grant = Grant(self._books)
        self._ease = Ease(self._books)
        self._scale_down = ScaleDown(self._books)
        cfg = self.config
        self._admission = Admission(cfg.max_new_components_per_host, cfg.new_component_window_s,
                                    cfg.max_new_hosts, cfg.new_host_window_s)

    # -- preferences -------------------------------------------------------------------------

    def on_preference(self, pref: Mapping[str, Any]) -> None:
        """Take a Preference; per selector the latest ``ts`` wins; a component follows its
        most specific matching selector (an exact id, else the glob with most literals)."""
        self._books.prefs.put(pref)

    def forget_preference(self, selector: str) -> None:
        """Drop a selector's preference (a tombstone on the compacted topic)."""
        self._books.prefs.forget(selector)

    def preference(self, component: str) -> Record:
        """The preference in force for ``component``."""
        return self._books.prefs.resolve(component).to_dict()

    # -- events ------------------------------------------------------------------------------

    def on_risk(self, risk: Mapping[str, Any], host: str) -> list[Record]:
        """Commands for one RiskScore of a component on ``host``, leases ended by its ts first.

        A score not newer than the component's last one is a duplicate or late: ignored, so a
        redelivered event changes nothing; ``host`` is where the component runs (its pool).
        """
        books = self._books
        component, ts = str(risk["component"]), int(risk["ts"])
        if component not in books.comps and not self._admit(host, ts):
            return []
        comp = books.state(component)
        if comp.last_risk_ts is not None and ts <= comp.last_risk_ts:
            return []  # its clock does not move: nothing can have ended
        books.at_ms = max(ts, books.fleet_ms if books.fleet_ms is not None else ts)
        try:
            return self._on_risk(risk, component, host, comp, ts)
        finally:
            books.at_ms = None

    def _admit(self, host: str, ts: int) -> bool:
        """Whether a component never seen before on ``host`` may be taken now: the caps on
        new components per host and on new hosts (``actuators/admission.py``)."""
        return self._admission.admit(host, ts)

    @property
    def refused_new(self) -> int:
        """Risk scores of new components refused by the per-host cap."""
        return self._admission.refused_components

    @property
    def refused_hosts(self) -> int:
        """Risk scores of components on new hosts refused by the new-host cap."""
        return self._admission.refused_hosts

    def _on_risk(self, risk: Mapping[str, Any], component: str, host: str,
                 comp: ComponentState, ts: int) -> list[Record]:
        books = self._books
        acting = signal(risk)[0]  # act if present (actuators/signal.py)
        if not math.isfinite(acting):
            # no evidence either way: neither grant nor count towards a release
            return self._advance(ts, component)
        books.feedback.observe(risk)  # first: effects measured as time advances see it
        out = self._advance(ts, component)
        comp.last_risk_ts, comp.risk = ts, acting
        for lease in books.pool.of_component(component):
            lease.risk = comp.risk
        pref = books.prefs.resolve(component)
        if pref.paused:
            comp.low_since_ms = None
            comp.quiet_since_ms.clear()
            return out
        cfg, now = self.config, books.now()
        if comp.risk > cfg.release_threshold:
            comp.low_since_ms = None
        elif comp.low_since_ms is None:
            comp.low_since_ms = now
        d = Decision(risk, component, host, pref, comp, now, ts)
        out.extend(self._scale_down.revert(d))
        alarm = min(1.0, cfg.risk_threshold + comp.alarm_offset)
        if comp.risk >= alarm and pref.criticality >= cfg.min_criticality:
            out.extend(self._grant(d))
        else:
            out.extend(self._ease(d))
            out.extend(self._scale_down(d))
        return out

    def on_feedback(self, feedback: Mapping[str, Any]) -> float:
        """Take an operator's verdict on one of a component's alarms (a Feedback record): a
        FALSE_POSITIVE raises the component's alarm point by ``FEEDBACK_STEP`` (up to
        ``FEEDBACK_CAP`` over ``risk_threshold``), a TRUE_POSITIVE lowers it back by as much
        (never under ``risk_threshold``). Returns the component's offset now."""
        verdict = feedback.get("verdict")
        if verdict not in ("FALSE_POSITIVE", "TRUE_POSITIVE"):
            raise ContractError(f"feedback verdict {verdict!r}: FALSE_POSITIVE or TRUE_POSITIVE")
        comp = self._books.state(str(feedback["component"]))
        step = FEEDBACK_STEP if verdict == "FALSE_POSITIVE" else -FEEDBACK_STEP
        comp.alarm_offset = min(FEEDBACK_CAP, max(0.0, comp.alarm_offset + step))
        return comp.alarm_offset

    def on_health(self, signal: Mapping[str, Any]) -> None:
        """Take a HealthSignal: a FAIL marks the grants whose horizon it falls in as not having
        avoided the breach; the values stand in for levels no risk score gave. Effects that
        this completes come out of :meth:`drain_outcomes`. Raises ContractError on bad input."""
        books = self._books
        books.feedback.on_health(signal)
        if signal["status"] == "FAIL":  # only a FAIL can complete a measurement early
            books.outcomes.extend(books.feedback.settle(books.now()))

    def on_outcome(self, outcome: Mapping[str, Any]) -> None:
        """APPLIED confirms a grant; any other status means it did not take effect, so its
        reservation is freed (a renewal falls back to the terms before it)."""
        if outcome.get("backend") == ENGINE:
            return
        books = self._books
        cid, component = outcome["command_id"], str(outcome.get("component", ""))
        held = books.pool.of_component(component)
        lease = next((ls for ls in held if ls.command_id == cid), None)
        if lease is None:
            return  # a release, a preemption, or a grant already superseded or ended
        if outcome["status"] == "APPLIED":
            lease.confirmed = True
            if not lease.tracked:
                books.feedback.applied(lease)
                lease.tracked = True
            return
        books.pool.remove(lease.component, lease.resource)
        if lease.prev is None and lease.tracked:  # applied once, failed now: it is gone
            books.feedback.ended(lease, books.now())
        if lease.prev is not None:
            self._fall_back(lease)

    def _fall_back(self, lease: Lease) -> None:
        """The earlier terms of a renewal that failed, timed from the failed attempt (no
        flap); a failed step-down whose freed capacity went to another meanwhile keeps its
        smaller terms: the pool is never overbooked."""
        pool, p, tried = self._books.pool, lease.prev or {}, lease.granted_ms
        end = max(p["end_ms"], tried + self.config.cooldown_s * 1000)
        earlier = replace(lease, amount=p["amount"], granted_ms=tried, end_ms=end,
                          command_id=p["command_id"], confirmed=p["confirmed"], prev=None)
        fits = pool.fits(lease.host, lease.resource, max(earlier.amount, 0.0))
        pool.put(earlier if fits else replace(lease, prev=None))

    def tick(self, now_ms: int) -> list[Record]:
        """Advance event time to ``now_ms`` (never backwards); RELEASE the leases that ended."""
        return self._advance(int(now_ms))

    # -- views and state ---------------------------------------------------------------------

    def leases(self) -> list[Record]:
        return [lease.to_dict() for lease in self._books.pool.all()]

    def capacity(self, host: str, resource: str) -> float:
        return self._books.pool.capacity(host, resource)

    def used(self, host: str, resource: str) -> float:
        return self._books.pool.used(host, resource)

    def acted(self, component: str) -> list[tuple[int, int | None]]:
        """When ``component`` was under an applied lease (grant or scale-down; holdouts never
        are), merged and sorted: ``(start_ms, end_ms)`` in event time, ``end_ms`` None while a
        lease still holds. ``start_ms`` is the ts of the first GRANT a backend APPLIED."""
        return self._books.feedback.acted(component)

    @property
    def feedback(self) -> Feedback:
        """The engine's feedback (posteriors, measurements under way); read it, do not feed it
        directly but through :meth:`on_outcome` and :meth:`on_health`."""
        return self._books.feedback

    def deferred(self) -> list[Record]:
        """The DEFERRED outcomes not drained yet."""
        return [dict(o) for o in self._books.outcomes if o["status"] == "DEFERRED"]

    def drain_outcomes(self) -> list[Record]:
        """AllocationOutcomes the engine itself decided (DEFERRED requests and holdouts,
        PREEMPTED, EXPIRED and REVERTED grants, APPLIED with a measured ``effect``;
        ``backend="engine"``), oldest first; the buffer is emptied."""
        drained = list(self._books.outcomes)
        self._books.outcomes.clear()
        return drained

    def snapshot(self) -> Record:
        """The engine's state as a JSON-ready value (config excluded)."""
        books = self._books
        return {
            "version": SNAPSHOT_VERSION,
            "clock_ms": books.clock_ms,
            "fleet_ms": books.fleet_ms,  # the clock tick() moves (absent before: None)
            "leases": self.leases(),
            "components": {c: s.to_dict() for c, s in sorted(books.comps.items())},
            "preferences": books.prefs.records(),
            "outcomes": [dict(o) for o in books.outcomes],
            "feedback": books.feedback.to_dict(),
            "admission": self._admission.to_dict(),  # absent before: counted afresh
        }

    def snapshot_shared(self) -> Record:
        """:meth:`snapshot` less its per-component parts (:meth:`snapshot_component`):
        :func:`assemble_snapshot` puts them together again."""
        books = self._books
        return {
            "version": SNAPSHOT_VERSION,
            "clock_ms": books.clock_ms,
            "fleet_ms": books.fleet_ms,  # the clock tick() moves (absent before: None)
            "preferences": books.prefs.records(),
            "outcomes": [dict(o) for o in books.outcomes],
            "feedback": books.feedback.shared_dict(),
        }

    def snapshot_admission(self) -> Record:
        """:meth:`snapshot`'s admission windows (``actuators/admission.py``): saved apart from
        the shared part, whose clock moves at every risk score, as they change only when a
        new component or host is admitted."""
        return self._admission.to_dict()

    def state_components(self) -> list[str]:
        """Every component the engine holds anything of (state, a lease, feedback)."""
        books = self._books
        held = {lease.component for lease in books.pool.all()}
        return sorted(held | set(books.comps) | books.feedback.components())

    def snapshot_component(self, component: str) -> Record | None:
        """One component's part of :meth:`snapshot` (its state, leases and feedback maps), or
        ``None`` when the engine holds nothing of it: what an incremental store writes for a
        component that changed, in time proportional to the component, not the fleet."""
        books = self._books
        comp = books.comps.get(component)
        leases = [lease.to_dict() for lease in books.pool.of_component(component)]
        feedback = books.feedback.component_dict(component)
        if comp is None and not leases and not feedback:
            return None
        return {"state": comp.to_dict() if comp is not None else None, "leases": leases,
                "feedback": feedback}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Replace the state with a :meth:`snapshot`; leases are kept even where a smaller
        configured capacity no longer holds them (they are real allocations until they end).
        A version 1 snapshot (before feedback) is read with nothing learnt yet."""
        if state.get("version") not in (1, SNAPSHOT_VERSION):
            raise ContractError(f"engine snapshot version {state.get('version')!r}: expected "
                                f"1 or {SNAPSHOT_VERSION}; take a new snapshot with this engine")
        books = self._books
        books.pool.clear()
        for raw in state["leases"]:
            books.pool.put(Lease.from_dict(raw), force=True)
        books.comps = {c: ComponentState(**dict(s)) for c, s in state["components"].items()}
        books.prefs.load(state["preferences"])
        books.outcomes = deque((dict(o) for o in state["outcomes"]),
                               maxlen=books.outcomes.maxlen)
        books.clock_ms = state["clock_ms"]
        books.fleet_ms = state.get("fleet_ms")
        books.feedback = Feedback(self.config)
        books.feedback.load(state.get("feedback", {}))
        self._admission.load(state.get("admission"))

    # -- expiry ------------------------------------------------------------------------------

    def _advance(self, ts: int, component: str | None = None) -> list[Record]:
        """End the leases whose time is up: ``component``'s by its own clock, or (a tick,
        ``component`` None) every lease by the fleet's clock, moved to ``ts``."""
        books = self._books
        if books.clock_ms is None or ts > books.clock_ms:
            books.clock_ms = ts
        if component is None:
            if books.fleet_ms is None or ts > books.fleet_ms:
                books.fleet_ms = ts
            now = books.fleet_ms
            due = books.pool.ending_by(now)
        else:
            now = books.now()
            due = sorted((ls for ls in books.pool.of_component(component) if ls.end_ms <= now),
                         key=lambda ls: (ls.end_ms, ls.resource))
        out: list[Record] = []
        for lease in due:
            pref = books.prefs.resolve(lease.component)
            if pref.paused:
                continue  # hands off until resumed; the first tick after that releases it
            books.end(lease, now)
            books.outcome(lease.command_id, lease.component, now, "EXPIRED",
                          f"lease ended at {lease.end_ms}")
            out.append(books.command(lease, "RELEASE", lease.amount, f"expire@{lease.end_ms}",
                                     f"lease of {lease.amount:g} {lease.unit} ended", pref, 0))
        books.outcomes.extend(books.feedback.settle(now))
        return out
