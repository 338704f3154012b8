"""The engine's low-risk policy: release, step down, keep, scale down, revert.

Split from ``engine.py`` to keep modules small: :class:`Easing`, a base of
``AllocationEngine``, holds the primitives on the engine's books (open and end a lease, make a
command) and the policy below; the engine holds the high-risk half (grant, renew, preempt,
defer) and the public API.

- **Release or step down** a lease once risk has stayed ``<= release_threshold`` for
  ``release_hold_s`` under its current terms, and only as far as the forecast allows: released
  when the forecast peak of the lease's metric, scaled to the baseline allocation, stays under
  ``threshold * (1 - margin)``; else stepped down to what keeps it there, at most half at a time
  (``actuators/headroom.py``). Without a forecast of the metric: halve once, then release.
- **Keep** (extend) a lease that is half over while the forecast says the component still needs
  it, whatever the risk, so a working grant does not lapse into the grant/release/grant cycle.
- **Scale down** (a GRANT of a negative amount) a component whose forecast peak of a capacity
  metric stays under ``shrink_below * threshold`` for ``shrink_hold_s`` while its risk is low,
  unless paused, at least ``shrink_max_criticality`` critical, or holding a grant: one
  scale-down per resource, towards the peak at ``shrink_target * threshold``, at most
  ``shrink_step`` of the baseline at a time and ``max_shrink`` in all; the quiet time of a
  metric starts again after its scale-down ends.
- **Deepen** a kept scale-down by another step once it has settled (``shrink_settle_s`` since
  its last step) and the forecast, scaled back to the baseline, allows it.
- **Revert** a scale-down at once (RELEASE, no cooldown: safety first, engine outcome REVERTED)
  when risk rises over ``release_threshold`` or the forecast peak at the reduced allocation
  passes ``shrink_revert * threshold``; while it settles, the forecasters read its step in
  utilisation as a trend, so only risk >= ``risk_threshold`` or the metric's level over that
  limit reverts it. A grant may follow at once, even on the same event (both give the
  component more, so there is no flapping to guard against). Scale-downs, their deepening and
  reverts do not count towards ``max_changes_per_hour``: they must not use up the budget of the
  grants a component may need next.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from actuators.config import EngineConfig
from actuators.contract import command_id, make_command, make_outcome
from actuators.feedback import ENGINE, Feedback
from actuators.headroom import (
    EPS,
    at_allocation,
    breach_threshold,
    capacity_threshold,
    metric_level,
    metric_peak,
    needs_lease,
    shrink_amount,
    step_down,
)
from actuators.pool import ComponentState, Lease, Pool
from actuators.pool import EffectivePreference as Pref
from actuators.sizing import Sizer

Record = dict[str, Any]


def priority(criticality: int, risk: float) -> int:
    """Criticality first, risk breaks ties: ``100 * criticality + round(99 * risk)``."""
    return 100 * int(criticality) + round(99 * min(max(risk, 0.0), 1.0))


class Easing:
    """The low-risk half of the allocation engine (see the module docstring)."""

    config: EngineConfig
    _pool: Pool
    _sizer: Sizer
    _feedback: Feedback
    _outcomes: deque[Record]

    _comps: dict[str, ComponentState]
    _clock_ms: int | None

    # -- the books' primitives, shared with the engine ---------------------------------------

    def _now(self) -> int:
        return self._clock_ms if self._clock_ms is not None else 0

    def _state(self, component: str) -> ComponentState:
        return self._comps.setdefault(component, ComponentState())

    def _end(self, lease: Lease, now: int) -> None:
        self._pool.remove(lease.component, lease.resource)
        self._state(lease.component).last_end_ms[lease.resource] = now
        self._feedback.ended(lease, now)

    def _may_change(self, comp: ComponentState, now: int) -> bool:
        return comp.changes_left(now, self.config.max_changes_per_hour) > 0

    def _open(self, component: str, host: str, resource: str, metric: str, amount: float,
              risk: Mapping[str, Any], pref: Pref, comp: ComponentState, reason: str) -> Record:
        """A new lease (a grant, or a scale-down when ``amount`` < 0) and its GRANT."""
        cfg, now = self.config, self._now()
        fallback = capacity_threshold(cfg.capacity_thresholds, metric)
        lease = Lease(component, resource, host, amount, cfg.resources[resource].unit, now,
                      now + cfg.lease_s * 1000, "", comp.risk, metric=metric,
                      threshold=breach_threshold(risk, metric, fallback),
                      before=self._feedback.level(component, metric),
                      horizon_s=int(risk.get("horizon_s") or 0))
        cmd = self._command(lease, "GRANT", amount, str(int(risk["ts"])), reason, pref,
                            cfg.lease_s)
        lease.command_id = lease.episode = cmd["command_id"]
        self._pool.put(lease)
        comp.last_grant_ms[resource] = now
        if amount > 0:  # a scale-down needs a quiet hour first: no budget of grants for it
            comp.changes_ms.append(now)
        return cmd

    def _command(self, lease: Lease, action: str, amount: float, key: str, reason: str,
                 pref: Pref, lease_s: int) -> Record:
        return make_command(
            command_id(lease.component, lease.resource, action, key), lease.component,
            lease.host, self._now(), lease.resource, action, amount, lease.unit, lease_s, reason,
            lease.risk, priority(pref.criticality, lease.risk))

    # -- positive leases ---------------------------------------------------------------------

    def _ease(self, risk: Mapping[str, Any], pref: Pref, comp: ComponentState, now: int,
              ts: int, component: str) -> list[Record]:
        """Release, step down or keep the component's grants while its risk is not high."""
        cfg, out = self.config, []
        cooldown_ms, hold_ms = cfg.cooldown_s * 1000, cfg.release_hold_s * 1000
        for lease in self._pool.of_component(component):
            if lease.amount < 0:
                continue
            spec = cfg.resources[lease.resource]
            threshold = breach_threshold(risk, lease.metric, lease.threshold)
            peak = metric_peak(risk, lease.metric) if lease.metric else None
            cooled = comp.cooled(lease.resource, now, cooldown_ms)
            low = comp.low_since_ms is not None
            if (low and now - max(comp.low_since_ms or now, lease.granted_ms) >= hold_ms
                    and now - lease.granted_ms >= cooldown_ms):
                target = step_down(spec, lease.amount, peak=peak, threshold=threshold,
                                   margin=cfg.margin, stepped=lease.stepped)
                if target <= 0:
                    out.append(self._release(lease, comp, now, ts, pref, peak))
                    continue
                if target < lease.amount - EPS and cooled:
                    why = (f"no {lease.metric} forecast" if peak is None else
                           f"{lease.metric} peak {peak:.3g} would be "
                           f"{at_allocation(peak, spec.baseline + lease.amount, spec.baseline):.3g}"
                           f" at baseline")
                    out.append(self._reterm(lease, target, comp, now, ts, pref,
                                            f"step down {lease.amount:g} -> {target:g} "
                                            f"{lease.unit}: {why}", stepped=peak is None))
                    continue
            if (cooled and lease.end_ms - now <= cfg.lease_s * 500 and peak is not None
                    and threshold is not None
                    and needs_lease(spec, lease.amount, peak, threshold, cfg.margin)):
                base = at_allocation(peak, spec.baseline + lease.amount, spec.baseline)
                out.append(self._reterm(lease, lease.amount, comp, now, ts, pref,
                                        f"extend lease, still needed: {lease.metric} peak "
                                        f"{peak:.3g} would be {base:.3g} at baseline, over "
                                        f"{threshold * (1 - cfg.margin):.3g}"))
        return out

    def _release(self, lease: Lease, comp: ComponentState, now: int, ts: int, pref: Pref,
                 peak: float | None) -> Record:
        self._end(lease, now)
        comp.changes_ms.append(now)
        low_s = (now - (comp.low_since_ms or now)) // 1000
        reason = f"risk {comp.risk:.2f} <= {self.config.release_threshold:g} for {low_s} s"
        if peak is not None:
            spec = self.config.resources[lease.resource]
            base = at_allocation(peak, spec.baseline + lease.amount, spec.baseline)
            reason += f"; {lease.metric} peak would be {base:.3g} at baseline"
        return self._command(lease, "RELEASE", lease.amount, str(ts), reason, pref, 0)

    def _reterm(self, lease: Lease, amount: float, comp: ComponentState, now: int, ts: int,
                pref: Pref, reason: str, *, stepped: bool | None = None) -> Record:
        """New terms (a step-down, an extension) for a held lease, as one GRANT."""
        prev = {"amount": lease.amount, "end_ms": lease.end_ms, "granted_ms": lease.granted_ms,
                "command_id": lease.command_id, "confirmed": lease.confirmed}
        renewed = replace(lease, amount=amount, granted_ms=now,
                          end_ms=now + self.config.lease_s * 1000, command_id="",
                          risk=comp.risk, confirmed=False, prev=prev,
                          stepped=lease.stepped if stepped is None else stepped)
        cmd = self._command(renewed, "GRANT", amount, str(ts), reason, pref, self.config.lease_s)
        renewed.command_id = cmd["command_id"]
        self._pool.put(renewed)
        comp.last_grant_ms[lease.resource] = now
        if abs(amount - lease.amount) > EPS and amount > 0:  # deepening a scale-down is free
            comp.changes_ms.append(now)
        return cmd

    # -- scale-down and its revert -----------------------------------------------------------

    def _scale_down(self, risk: Mapping[str, Any], component: str, host: str, pref: Pref,
                    comp: ComponentState, now: int) -> list[Record]:
        cfg, quiet = self.config, comp.quiet_since_ms
        if (not cfg.scale_down or pref.criticality >= cfg.shrink_max_criticality
                or comp.low_since_ms is None
                or any(ls.amount > 0 for ls in self._pool.of_component(component))):
            quiet.clear()
            return []
        metrics = sorted({str(f["metric"]) for f in risk.get("forecasts") or ()})
        for gone in [m for m in quiet if m not in metrics]:
            del quiet[gone]
        for metric in metrics:
            threshold = capacity_threshold(cfg.capacity_thresholds, metric)
            peak = metric_peak(risk, metric)
            if threshold is None or peak is None or peak >= cfg.shrink_below * threshold:
                quiet.pop(metric, None)
                continue
            since = quiet.setdefault(metric, now)
            if now - since < cfg.shrink_hold_s * 1000:
                continue
            resource = next((r for r in self._sizer.mapped(metric) if r in cfg.resources
                             and (pref.allowed is None or r in pref.allowed)), None)
            if (resource is None or self._pool.get(component, resource) is not None
                    or not comp.cooled(resource, now, cfg.cooldown_s * 1000)
                    or not self._may_change(comp, now)):
                continue
            amount = shrink_amount(cfg.resources[resource], peak=peak, threshold=threshold,
                                   target=cfg.shrink_target, max_shrink=cfg.max_shrink,
                                   step=cfg.shrink_step)
            if amount is None:
                continue
            reason = (f"scale-down: {metric} forecast peak {peak:.3g} < {cfg.shrink_below:g} x "
                      f"{threshold:g} for {(now - since) // 1000} s")
            return [self._open(component, host, resource, metric, amount, risk, pref, comp,
                               reason)]
        return []

    def _revert(self, risk: Mapping[str, Any], pref: Pref, comp: ComponentState, now: int,
                ts: int, component: str) -> list[Record]:
        """Revert regressed scale-downs at once; keep (extend) the others near their end."""
        cfg, out = self.config, []
        for lease in self._pool.of_component(component):
            if lease.amount >= 0:
                continue
            why = self._regressed(risk, lease, pref, comp)
            if why is None:
                settled = now - lease.granted_ms >= cfg.shrink_settle_s * 1000
                amount = self._deeper(risk, lease) if settled else lease.amount
                if (comp.cooled(lease.resource, now, cfg.cooldown_s * 1000)
                        and (amount != lease.amount or lease.end_ms - now <= cfg.lease_s * 500)):
                    verb = "extend" if amount == lease.amount else f"deepen to {amount:g}"
                    out.append(self._reterm(lease, amount, comp, now, ts, pref,
                                            f"scale-down: {verb}, still quiet"))
                continue
            self._end(lease, now)
            # A revert and a grant that may follow both give the component more: no flap to
            # guard against, so neither the revert nor the scale-down it undoes holds a grant
            # back (the quiet hour a new scale-down needs is the guard on the other side).
            comp.last_end_ms.pop(lease.resource, None)
            comp.last_grant_ms.pop(lease.resource, None)
            reason = f"revert scale-down of {lease.amount:g} {lease.unit}: {why}"
            self._outcomes.append(make_outcome(lease.command_id, component, now, "REVERTED",
                                               reason, ENGINE))
            out.append(self._command(lease, "RELEASE", lease.amount, str(ts), reason, pref, 0))
        return out

    def _deeper(self, risk: Mapping[str, Any], lease: Lease) -> float:
        """The kept scale-down's amount for its next term: deeper when the forecast, scaled
        back to the baseline, now allows a larger one (never shallower: that is a revert)."""
        cfg, spec = self.config, self.config.resources[lease.resource]
        peak = metric_peak(risk, lease.metric) if lease.metric else None
        if peak is None or lease.threshold is None:
            return lease.amount
        base = at_allocation(peak, spec.baseline + lease.amount, spec.baseline)
        deeper = shrink_amount(spec, peak=base, threshold=lease.threshold,
                               target=cfg.shrink_target, max_shrink=cfg.max_shrink,
                               held=lease.amount, step=cfg.shrink_step)
        return deeper if deeper is not None and deeper < lease.amount - EPS else lease.amount

    def _regressed(self, risk: Mapping[str, Any], lease: Lease, pref: Pref,
                   comp: ComponentState) -> str | None:
        cfg = self.config
        # Settling: the forecasts and the risk see the step a scale-down makes in utilisation
        # as a trend for a while; until then judge it by the level and by high risk only.
        settling = self._now() - lease.granted_ms < cfg.shrink_settle_s * 1000
        limit_risk = cfg.risk_threshold if settling else cfg.release_threshold
        if comp.risk >= limit_risk if settling else comp.risk > limit_risk:
            return f"risk {comp.risk:.2f} {'>=' if settling else '>'} {limit_risk:g}"
        if not cfg.scale_down or pref.criticality >= cfg.shrink_max_criticality:
            return f"criticality {pref.criticality} is not scaled down"
        if not lease.metric or lease.threshold is None:
            return None
        limit = lease.threshold * cfg.shrink_revert
        seen = metric_level(risk, lease.metric) if settling else metric_peak(risk, lease.metric)
        if seen is not None and seen > limit:
            what = "level" if settling else "forecast peak"
            return f"{lease.metric} {what} {seen:.3g} > {limit:.3g}"
        return None
