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
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from actuators.config import EngineConfig
from actuators.contract import command_id, make_outcome
from actuators.easing import Easing, priority
from actuators.feedback import ENGINE, Feedback
from actuators.pool import ComponentState, Lease, Pool, Preferences
from actuators.pool import EffectivePreference as Pref
from actuators.sizing import EPS, Sizer
from schemas.errors import ContractError

Record = dict[str, Any]
SNAPSHOT_VERSION = 2  # 1: before feedback and scale-down (still read: nothing learnt yet)

__all__ = ["ENGINE", "AllocationEngine", "EngineConfig", "command_id", "priority"]


FEEDBACK_STEP = 0.05  # alarm point moved per operator verdict (on_feedback)
FEEDBACK_CAP = 0.3  # at most this far over risk_threshold

class AllocationEngine(Easing):
    """Turns risk scores into allocation commands, one host pool per (host, resource).

    Not thread-safe; feed it from one loop. Its state is a value: :meth:`snapshot` and
    :meth:`restore` move it between processes.
    """

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config if config is not None else EngineConfig()
        self._pool = Pool(self.config.resources, self.config.host_capacity)
        self._sizer = Sizer(self.config, self._pool)
        self._prefs = Preferences(self.config.default_criticality)
        self._comps: dict[str, ComponentState] = {}
        self._outcomes: deque[Record] = deque(maxlen=self.config.outcome_buffer)
        self._clock_ms: int | None = None  # the largest time seen (engine outcomes, feedback)
        self._feedback = Feedback(self.config)
        # Each component's decisions run on its own clock (its risk scores' ts); other
        # components' leases end on the fleet's clock, moved only by tick(): one skewed host
        # never moves the decisions of another.
        self._fleet_ms: int | None = None
        self._at_ms: int | None = None  # the clock of the component being decided on
        self._new_by_host: dict[str, deque[int]] = {}
        self.refused_new = 0  # risk scores of new components over the per-host cap

    # -- preferences -------------------------------------------------------------------------

    def on_preference(self, pref: Mapping[str, Any]) -> None:
        """Take a Preference; per selector the latest ``ts`` wins; a component follows its
        most specific matching selector (an exact id, else the glob with most literals)."""
        self._prefs.put(pref)

    def forget_preference(self, selector: str) -> None:
        """Drop a selector's preference (a tombstone on the compacted topic)."""
        self._prefs.forget(selector)

    def preference(self, component: str) -> Record:
        """The preference in force for ``component``."""
        return self._prefs.resolve(component).to_dict()

    # -- events ------------------------------------------------------------------------------

    def on_risk(self, risk: Mapping[str, Any], host: str) -> list[Record]:
        """Commands for one RiskScore of a component on ``host``, leases ended by its ts first.

        A score not newer than the component's last one is a duplicate or late: ignored, so a
        redelivered event changes nothing; ``host`` is where the component runs (its pool).
        """
        component, ts = str(risk["component"]), int(risk["ts"])
        if component not in self._comps and not self._admit(host, ts):
            return []
        comp = self._state(component)
        if comp.last_risk_ts is not None and ts <= comp.last_risk_ts:
            return []  # its clock does not move: nothing can have ended
        self._at_ms = max(ts, self._fleet_ms if self._fleet_ms is not None else ts)
        try:
            return self._on_risk(risk, component, host, comp, ts)
        finally:
            self._at_ms = None

    def _now(self) -> int:
        return self._at_ms if self._at_ms is not None else super()._now()

    def _admit(self, host: str, ts: int) -> bool:
        """Whether a component never seen before on ``host`` may be taken now (at most
        ``max_new_components_per_host`` per ``new_component_window_s``; the host's arrival
        time never goes back, so stamps in the past do not reopen the window)."""
        cap = self.config.max_new_components_per_host
        if cap <= 0:
            return True
        q = self._new_by_host.setdefault(host, deque())
        t = max(ts, q[-1]) if q else ts
        while q and q[0] <= t - self.config.new_component_window_s * 1000:
            q.popleft()
        if len(q) >= cap:
            self.refused_new += 1
            return False
        q.append(t)
        return True

    def _on_risk(self, risk: Mapping[str, Any], component: str, host: str,
                 comp: ComponentState, ts: int) -> list[Record]:
        if not math.isfinite(float(risk["risk"])):
            # no evidence either way: neither grant nor count towards a release
            return self._advance(ts, component)
        self._feedback.observe(risk)  # first: effects measured as time advances see it
        out = self._advance(ts, component)
        comp.last_risk_ts, comp.risk = ts, float(risk["risk"])
        for lease in self._pool.of_component(component):
            lease.risk = comp.risk
        pref = self._prefs.resolve(component)
        if pref.paused:
            comp.low_since_ms = None
            comp.quiet_since_ms.clear()
            return out
        cfg, now = self.config, self._now()
        if comp.risk > cfg.release_threshold:
            comp.low_since_ms = None
        elif comp.low_since_ms is None:
            comp.low_since_ms = now
        out.extend(self._revert(risk, pref, comp, now, ts, component))
        alarm = min(1.0, cfg.risk_threshold + comp.alarm_offset)
        if comp.risk >= alarm and pref.criticality >= cfg.min_criticality:
            out.extend(self._acquire(risk, component, host, pref, comp, now))
        else:
            out.extend(self._ease(risk, pref, comp, now, ts, component))
            out.extend(self._scale_down(risk, component, host, pref, comp, now))
        return out

    def on_feedback(self, feedback: Mapping[str, Any]) -> float:
        """Take an operator's verdict on one of a component's alarms (a Feedback record): a
        FALSE_POSITIVE raises the component's alarm point by ``FEEDBACK_STEP`` (up to
        ``FEEDBACK_CAP`` over ``risk_threshold``), a TRUE_POSITIVE lowers it back by as much
        (never under ``risk_threshold``). Returns the component's offset now."""
        verdict = feedback.get("verdict")
        if verdict not in ("FALSE_POSITIVE", "TRUE_POSITIVE"):
            raise ContractError(f"feedback verdict {verdict!r}: FALSE_POSITIVE or TRUE_POSITIVE")
        comp = self._state(str(feedback["component"]))
        step = FEEDBACK_STEP if verdict == "FALSE_POSITIVE" else -FEEDBACK_STEP
        comp.alarm_offset = min(FEEDBACK_CAP, max(0.0, comp.alarm_offset + step))
        return comp.alarm_offset

    def on_health(self, signal: Mapping[str, Any]) -> None:
        """Take a HealthSignal: a FAIL marks the grants whose horizon it falls in as not having
        avoided the breach; the values stand in for levels no risk score gave. Effects that
        this completes come out of :meth:`drain_outcomes`. Raises ContractError on bad input."""
        self._feedback.on_health(signal)
        if signal["status"] == "FAIL":  # only a FAIL can complete a measurement early
            self._outcomes.extend(self._feedback.settle(self._now()))

    def on_outcome(self, outcome: Mapping[str, Any]) -> None:
        """APPLIED confirms a grant; any other status means it did not take effect, so its
        reservation is freed (a renewal falls back to the terms before it)."""
        if outcome.get("backend") == ENGINE:
            return
        cid, component = outcome["command_id"], str(outcome.get("component", ""))
        held = self._pool.of_component(component)
        lease = next((ls for ls in held if ls.command_id == cid), None)
        if lease is None:
            return  # a release, a preemption, or a grant already superseded or ended
        if outcome["status"] == "APPLIED":
            lease.confirmed = True
            if not lease.tracked:
                self._feedback.applied(lease)
                lease.tracked = True
            return
        self._pool.remove(lease.component, lease.resource)
        if lease.prev is None and lease.tracked:  # applied once, failed now: it is gone
            self._feedback.ended(lease, self._now())
        if lease.prev is not None:  # the earlier terms, timed from the failed attempt: no flap
            p, tried = lease.prev, lease.granted_ms
            end = max(p["end_ms"], tried + self.config.cooldown_s * 1000)
            earlier = replace(lease, amount=p["amount"], granted_ms=tried, end_ms=end,
                              command_id=p["command_id"], confirmed=p["confirmed"], prev=None)
            # a failed step-down whose freed capacity went to another meanwhile keeps its
            # smaller terms: the pool is never overbooked
            fits = self._pool.fits(lease.host, lease.resource, max(earlier.amount, 0.0))
            self._pool.put(earlier if fits else replace(lease, prev=None))

    def tick(self, now_ms: int) -> list[Record]:
        """Advance event time to ``now_ms`` (never backwards); RELEASE the leases that ended."""
        return self._advance(int(now_ms))

    # -- views and state ---------------------------------------------------------------------

    def leases(self) -> list[Record]:
        return [lease.to_dict() for lease in self._pool.all()]

    def capacity(self, host: str, resource: str) -> float:
        return self._pool.capacity(host, resource)

    def used(self, host: str, resource: str) -> float:
        return self._pool.used(host, resource)

    def acted(self, component: str) -> list[tuple[int, int | None]]:
        """When ``component`` was under an applied lease (grant or scale-down; holdouts never
        are), merged and sorted: ``(start_ms, end_ms)`` in event time, ``end_ms`` None while a
        lease still holds. ``start_ms`` is the ts of the first GRANT a backend APPLIED."""
        return self._feedback.acted(component)

    @property
    def feedback(self) -> Feedback:
        """The engine's feedback (posteriors, measurements under way); read it, do not feed it
        directly but through :meth:`on_outcome` and :meth:`on_health`."""
        return self._feedback

    def deferred(self) -> list[Record]:
        """The DEFERRED outcomes not drained yet."""
        return [dict(o) for o in self._outcomes if o["status"] == "DEFERRED"]

    def drain_outcomes(self) -> list[Record]:
        """AllocationOutcomes the engine itself decided (DEFERRED requests and holdouts,
        PREEMPTED, EXPIRED and REVERTED grants, APPLIED with a measured ``effect``;
        ``backend="engine"``), oldest first; the buffer is emptied."""
        drained = list(self._outcomes)
        self._outcomes.clear()
        return drained

    def snapshot(self) -> Record:
        """The engine's state as a JSON-ready value (config excluded)."""
        return {
            "version": SNAPSHOT_VERSION,
            "clock_ms": self._clock_ms,
            "fleet_ms": self._fleet_ms,  # the clock tick() moves (absent before: None)
            "leases": self.leases(),
            "components": {c: s.to_dict() for c, s in sorted(self._comps.items())},
            "preferences": self._prefs.records(),
            "outcomes": [dict(o) for o in self._outcomes],
            "feedback": self._feedback.to_dict(),
        }

    def snapshot_shared(self) -> Record:
        """:meth:`snapshot` less its per-component parts (:meth:`snapshot_component`):
        :func:`assemble_snapshot` puts them together again."""
        return {
            "version": SNAPSHOT_VERSION,
            "clock_ms": self._clock_ms,
            "fleet_ms": self._fleet_ms,  # the clock tick() moves (absent before: None)
            "preferences": self._prefs.records(),
            "outcomes": [dict(o) for o in self._outcomes],
            "feedback": self._feedback.shared_dict(),
        }

    def state_components(self) -> list[str]:
        """Every component the engine holds anything of (state, a lease, feedback)."""
        held = {lease.component for lease in self._pool.all()}
        return sorted(held | set(self._comps) | self._feedback.components())

    def snapshot_component(self, component: str) -> Record | None:
        """One component's part of :meth:`snapshot` (its state, leases and feedback maps), or
        ``None`` when the engine holds nothing of it: what an incremental store writes for a
        component that changed, in time proportional to the component, not the fleet."""
        comp = self._comps.get(component)
        leases = [lease.to_dict() for lease in self._pool.of_component(component)]
        feedback = self._feedback.component_dict(component)
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
        self._pool.clear()
        for raw in state["leases"]:
            self._pool.put(Lease.from_dict(raw), force=True)
        self._comps = {c: ComponentState(**dict(s)) for c, s in state["components"].items()}
        self._prefs.load(state["preferences"])
        self._outcomes = deque((dict(o) for o in state["outcomes"]), maxlen=self._outcomes.maxlen)
        self._clock_ms = state["clock_ms"]
        self._fleet_ms = state.get("fleet_ms")
        self._feedback = Feedback(self.config)
        self._feedback.load(state.get("feedback", {}))

    # -- decisions ---------------------------------------------------------------------------

    def _advance(self, ts: int, component: str | None = None) -> list[Record]:
        """End the leases whose time is up: ``component``'s by its own clock, or (a tick,
        ``component`` None) every lease by the fleet's clock, moved to ``ts``."""
        if self._clock_ms is None or ts > self._clock_ms:
            self._clock_ms = ts
        if component is None:
            if self._fleet_ms is None or ts > self._fleet_ms:
                self._fleet_ms = ts
            now = self._fleet_ms
            due = self._pool.ending_by(now)
        else:
            now = self._now()
            due = sorted((ls for ls in self._pool.of_component(component) if ls.end_ms <= now),
                         key=lambda ls: (ls.end_ms, ls.resource))
        out: list[Record] = []
        for lease in due:
            pref = self._prefs.resolve(lease.component)
            if pref.paused:
                continue  # hands off until resumed; the first tick after that releases it
            self._end(lease, now)
            self._outcomes.append(make_outcome(lease.command_id, lease.component, now, "EXPIRED",
                                               f"lease ended at {lease.end_ms}", ENGINE))
            out.append(self._command(lease, "RELEASE", lease.amount, f"expire@{lease.end_ms}",
                                     f"lease of {lease.amount:g} {lease.unit} ended", pref, 0))
        self._outcomes.extend(self._feedback.settle(now))
        return out

    def _acquire(self, risk: Mapping[str, Any], component: str, host: str, pref: Pref,
                 comp: ComponentState, now: int) -> list[Record]:
        ts = int(risk["ts"])
        candidates = self._feedback.order(component, ts, self._sizer.candidates(risk, pref, host))
        cooldown_ms = self.config.cooldown_s * 1000
        for resource, metric in candidates:
            held = self._pool.get(component, resource)
            if held is None:
                continue
            if not comp.cooled(resource, now, cooldown_ms):
                return []
            return self._renew(held, risk, metric, pref, comp, now)
        ready = [(r, m) for r, m in candidates if comp.cooled(r, now, cooldown_ms)]
        if not ready or self._held_out(component, pref, comp, ready[0][0], risk, now):
            return []
        if not self._may_change(comp, now):
            self._defer(component, ready[0][0], ts, now,
                        f"{self.config.max_changes_per_hour} changes in the last hour already")
            return []
        sized = [(r, m, self._sizer.new_amount(r, m, risk, pref)) for r, m in ready]
        for resource, metric, amount in sized:
            if self._pool.fits(host, resource, amount):
                return [self._grant(component, host, resource, metric, amount, risk, pref, comp)]
        resource, metric, amount = sized[0]
        free = self._pool.free(host, resource)
        if pref.criticality >= self.config.preempt_criticality:
            victims = self._victims(host, resource, amount - free, pref.criticality, now)
            if victims is not None:
                out = [self._preempt(v, component, ts, now) for v in victims]
                out.append(self._grant(component, host, resource, metric, amount, risk, pref, comp))
                return out
        self._defer(component, resource, ts, now,
                    f"{host} {resource} pool has {free:g} free of the {amount:g} needed")
        return []

    def _grant(self, component: str, host: str, resource: str, metric: str, amount: float,
               risk: Mapping[str, Any], pref: Pref, comp: ComponentState) -> Record:
        reason = (f"risk {comp.risk:.2f} >= {self.config.risk_threshold:g} on {metric} "
                  f"(pressure {self._sizer.pressure(risk, metric):.2f})")
        return self._open(component, host, resource, metric, amount, risk, pref, comp, reason)

    def _held_out(self, component: str, pref: Pref, comp: ComponentState, resource: str,
                  risk: Mapping[str, Any], now: int) -> bool:
        """Whether a would-be grant is withheld: a holdout starts by a hash of (component, ts)
        and lasts the risk's horizon; the most critical components, and risks over
        ``holdout_max_risk`` (confident predictions, even during a holdout), are never held out."""
        if (pref.criticality >= self.config.preempt_criticality
                or comp.risk > self.config.holdout_max_risk):
            return False
        if comp.holdout_until_ms is not None and now < comp.holdout_until_ms:
            return True
        ts = int(risk["ts"])
        if not self._feedback.holdout(component, ts):
            return False
        comp.holdout_until_ms = now + int(risk.get("horizon_s") or 0) * 1000
        self._defer(component, resource, ts, now,
                    f"holdout: not acted on until {comp.holdout_until_ms}, to measure what "
                    f"happens without a grant ({self.config.holdout:g} of would-be grants)")
        return True

    def _renew(self, lease: Lease, risk: Mapping[str, Any], metric: str, pref: Pref,
               comp: ComponentState, now: int) -> list[Record]:
        cfg = self.config
        target = self._sizer.renewal(lease, risk, metric, pref)
        grows = (target - lease.amount >= cfg.resources[lease.resource].min_amount - EPS
                 and self._may_change(comp, now))
        ending = lease.end_ms - now <= cfg.lease_s * 500
        if not grows and not ending:
            return []
        amount = target if grows else lease.amount
        prev = {"amount": lease.amount, "end_ms": lease.end_ms, "granted_ms": lease.granted_ms,
                "command_id": lease.command_id, "confirmed": lease.confirmed}
        renewed = replace(lease, amount=amount, granted_ms=now, end_ms=now + cfg.lease_s * 1000,
                          command_id="", risk=comp.risk, confirmed=False, prev=prev,
                          stepped=lease.stepped and not grows)
        verb = f"grow {lease.amount:g} -> {amount:g} {lease.unit}" if grows else "extend lease"
        reason = f"risk {comp.risk:.2f} still >= {cfg.risk_threshold:g} on {metric}: {verb}"
        cmd = self._command(renewed, "GRANT", amount, str(int(risk["ts"])), reason, pref,
                            cfg.lease_s)
        renewed.command_id = cmd["command_id"]
        self._pool.put(renewed)
        comp.last_grant_ms[lease.resource] = now
        if grows:
            comp.changes_ms.append(now)
        return [cmd]

    def _victims(self, host: str, resource: str, short: float, criticality: int,
                 now: int) -> list[Lease] | None:
        """The fewest lowest-priority leases of less critical components that free ``short``;
        None when even all of them would not."""
        eligible = []
        for lease in self._pool.on_slot(host, resource):
            p = self._prefs.resolve(lease.component)
            if p.paused or p.criticality >= criticality or lease.amount <= 0:
                continue
            if now - lease.granted_ms < self.config.cooldown_s * 1000:
                continue
            eligible.append((priority(p.criticality, lease.risk), lease.granted_ms, lease))
        eligible.sort(key=lambda e: (e[0], e[1], e[2].component))
        chosen, freed = [], 0.0
        for _, _, lease in eligible:
            if freed >= short - EPS:
                break
            chosen.append(lease)
            freed += lease.amount
        return chosen if freed >= short - EPS else None

    def _preempt(self, victim: Lease, by: str, ts: int, now: int) -> Record:
        self._end(victim, now)
        reason = f"preempted for {by}, more critical"
        self._outcomes.append(make_outcome(victim.command_id, victim.component, now, "PREEMPTED",
                                           reason, ENGINE))
        return self._command(victim, "PREEMPT", victim.amount, f"{by}@{ts}", reason,
                             self._prefs.resolve(victim.component), 0)

    def _defer(self, component: str, resource: str, ts: int, now: int, why: str) -> None:
        cid = command_id(component, resource, "GRANT", str(ts))
        self._outcomes.append(make_outcome(cid, component, now, "DEFERRED", why, ENGINE))
