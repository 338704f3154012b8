"""The engine's low-risk policy: release, step down, keep, scale down, revert.

Two of the engine's policies, on its :class:`~actuators.books.Books`: :class:`Ease` (release,
step down, keep the positive leases) and :class:`ScaleDown` (scale down, deepen, revert); the
high-risk ones are in ``actuators/grant.py``, the composition in ``actuators/engine.py``.

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

from actuators.books import EPS, Books, Decision, Record
from actuators.headroom import (
    at_allocation,
    breach_threshold,
    capacity_threshold,
    metric_level,
    metric_peak,
    needs_lease,
    shrink_amount,
    step_down,
)
from actuators.pool import Lease


class Ease:
    """Release, step down or keep the component's grants while its risk is not high."""

    def __init__(self, books: Books) -> None:
        self.books = books

    def __call__(self, d: Decision) -> list[Record]:
        out = []
        for lease in self.books.pool.of_component(d.component):
            if lease.amount < 0:
                continue
            cmd = self.one(d, lease)
            if cmd is not None:
                out.append(cmd)
        return out

    def one(self, d: Decision, lease: Lease) -> Record | None:
        books, cfg, comp, now = self.books, self.books.config, d.comp, d.now
        spec = cfg.resources[lease.resource]
        threshold = breach_threshold(d.risk, lease.metric, lease.threshold)
        peak = metric_peak(d.risk, lease.metric) if lease.metric else None
        cooled = books.cooled(comp, lease.resource, now)
        low = comp.low_since_ms is not None
        if (low and now - max(comp.low_since_ms or now, lease.granted_ms)
                >= cfg.release_hold_s * 1000
                and now - lease.granted_ms >= cfg.cooldown_s * 1000):
            target = step_down(spec, lease.amount, peak=peak, threshold=threshold,
                               margin=cfg.margin, stepped=lease.stepped)
            if target <= 0:
                return self.release(d, lease, peak)
            if target < lease.amount - EPS and cooled:
                why = (f"no {lease.metric} forecast" if peak is None else
                       f"{lease.metric} peak {peak:.3g} would be "
                       f"{at_allocation(peak, spec.baseline + lease.amount, spec.baseline):.3g}"
                       f" at baseline")
                return books.reterm(lease, target, d, f"step down {lease.amount:g} -> "
                                    f"{target:g} {lease.unit}: {why}", stepped=peak is None,
                                    counts=True)
        if (cooled and lease.end_ms - now <= cfg.lease_s * 500 and peak is not None
                and threshold is not None
                and needs_lease(spec, lease.amount, peak, threshold, cfg.margin)):
            base = at_allocation(peak, spec.baseline + lease.amount, spec.baseline)
            return books.reterm(lease, lease.amount, d,
                                f"extend lease, still needed: {lease.metric} peak "
                                f"{peak:.3g} would be {base:.3g} at baseline, over "
                                f"{threshold * (1 - cfg.margin):.3g}",
                                stepped=lease.stepped, counts=False)
        return None

    def release(self, d: Decision, lease: Lease, peak: float | None) -> Record:
        books, comp, now = self.books, d.comp, d.now
        books.end(lease, now)
        comp.changes_ms.append(now)
        low_s = (now - (comp.low_since_ms or now)) // 1000
        reason = f"risk {comp.risk:.2f} <= {books.config.release_threshold:g} for {low_s} s"
        if peak is not None:
            spec = books.config.resources[lease.resource]
            base = at_allocation(peak, spec.baseline + lease.amount, spec.baseline)
            reason += f"; {lease.metric} peak would be {base:.3g} at baseline"
        return books.command(lease, "RELEASE", lease.amount, str(d.ts), reason, d.pref, 0)


class ScaleDown:
    """Scale a quiet component down; deepen, keep or revert its scale-downs."""

    def __init__(self, books: Books) -> None:
        self.books = books

    def __call__(self, d: Decision) -> list[Record]:
        """A new scale-down once a capacity metric has stayed quiet for ``shrink_hold_s``."""
        books, cfg, comp, quiet = self.books, self.books.config, d.comp, d.comp.quiet_since_ms
        if (not cfg.scale_down or d.pref.criticality >= cfg.shrink_max_criticality
                or comp.low_since_ms is None
                or any(ls.amount > 0 for ls in books.pool.of_component(d.component))):
            quiet.clear()
            return []
        metrics = sorted({str(f["metric"]) for f in d.risk.get("forecasts") or ()})
        for gone in [m for m in quiet if m not in metrics]:
            del quiet[gone]
        for metric in metrics:
            threshold = capacity_threshold(cfg.capacity_thresholds, metric)
            peak = metric_peak(d.risk, metric)
            if threshold is None or peak is None or peak >= cfg.shrink_below * threshold:
                quiet.pop(metric, None)
                continue
            since = quiet.setdefault(metric, d.now)
            if d.now - since < cfg.shrink_hold_s * 1000:
                continue
            resource = self.resource(d, metric)
            if resource is None:
                continue
            amount = shrink_amount(cfg.resources[resource], peak=peak, threshold=threshold,
                                   target=cfg.shrink_target, max_shrink=cfg.max_shrink,
                                   step=cfg.shrink_step)
            if amount is None:
                continue
            reason = (f"scale-down: {metric} forecast peak {peak:.3g} < {cfg.shrink_below:g} x "
                      f"{threshold:g} for {(d.now - since) // 1000} s")
            return [books.open(d, resource, metric, amount, reason)]
        return []

    def resource(self, d: Decision, metric: str) -> str | None:
        """The resource ``metric`` maps to that may be scaled down now, if any."""
        books, cfg = self.books, self.books.config
        resource = next((r for r in books.sizer.mapped(metric) if r in cfg.resources
                         and (d.pref.allowed is None or r in d.pref.allowed)), None)
        if (resource is None or books.pool.get(d.component, resource) is not None
                or not books.cooled(d.comp, resource, d.now)
                or not books.may_change(d.comp, d.now)):
            return None
        return resource

    def revert(self, d: Decision) -> list[Record]:
        """Revert regressed scale-downs at once; keep (extend) the others near their end."""
        books, cfg, comp, now, out = self.books, self.books.config, d.comp, d.now, []
        for lease in books.pool.of_component(d.component):
            if lease.amount >= 0:
                continue
            why = self.regressed(d, lease)
            if why is None:
                settled = now - lease.granted_ms >= cfg.shrink_settle_s * 1000
                amount = self.deeper(d, lease) if settled else lease.amount
                if (books.cooled(comp, lease.resource, now)
                        and (amount != lease.amount or lease.end_ms - now <= cfg.lease_s * 500)):
                    verb = "extend" if amount == lease.amount else f"deepen to {amount:g}"
                    out.append(books.reterm(lease, amount, d, f"scale-down: {verb}, still quiet",
                                            stepped=lease.stepped, counts=False))
                continue
            books.end(lease, now)
            # A revert and a grant that may follow both give the component more: no flap to
            # guard against, so neither the revert nor the scale-down it undoes holds a grant
            # back (the quiet hour a new scale-down needs is the guard on the other side).
            comp.last_end_ms.pop(lease.resource, None)
            comp.last_grant_ms.pop(lease.resource, None)
            reason = f"revert scale-down of {lease.amount:g} {lease.unit}: {why}"
            books.outcome(lease.command_id, d.component, now, "REVERTED", reason)
            out.append(books.command(lease, "RELEASE", lease.amount, str(d.ts), reason, d.pref,
                                     0))
        return out

    def deeper(self, d: Decision, lease: Lease) -> float:
        """The kept scale-down's amount for its next term: deeper when the forecast, scaled
        back to the baseline, now allows a larger one (never shallower: that is a revert)."""
        cfg, spec = self.books.config, self.books.config.resources[lease.resource]
        peak = metric_peak(d.risk, lease.metric) if lease.metric else None
        if peak is None or lease.threshold is None:
            return lease.amount
        base = at_allocation(peak, spec.baseline + lease.amount, spec.baseline)
        deeper = shrink_amount(spec, peak=base, threshold=lease.threshold,
                               target=cfg.shrink_target, max_shrink=cfg.max_shrink,
                               held=lease.amount, step=cfg.shrink_step)
        return deeper if deeper is not None and deeper < lease.amount - EPS else lease.amount

    def regressed(self, d: Decision, lease: Lease) -> str | None:
        """Why a scale-down must be reverted now, or None."""
        cfg, comp, pref = self.books.config, d.comp, d.pref
        # Settling: the forecasts and the risk see the step a scale-down makes in utilisation
        # as a trend for a while; until then judge it by the level and by high risk only.
        settling = d.now - lease.granted_ms < cfg.shrink_settle_s * 1000
        limit_risk = cfg.risk_threshold if settling else cfg.release_threshold
        if comp.risk >= limit_risk if settling else comp.risk > limit_risk:
            return f"risk {comp.risk:.2f} {'>=' if settling else '>'} {limit_risk:g}"
        if not cfg.scale_down or pref.criticality >= cfg.shrink_max_criticality:
            return f"criticality {pref.criticality} is not scaled down"
        if not lease.metric or lease.threshold is None:
            return None
        limit = lease.threshold * cfg.shrink_revert
        seen = (metric_level(d.risk, lease.metric) if settling
                else metric_peak(d.risk, lease.metric))
        if seen is not None and seen > limit:
            what = "level" if settling else "forecast peak"
            return f"{lease.metric} {what} {seen:.3g} > {limit:.3g}"
        return None
