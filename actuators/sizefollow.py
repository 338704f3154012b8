"""Follow a miss (``follow`` m; issue #11, session 22; the default since then: 100, on CPU): after
a step whose demand was above the allocation then in effect (a *miss*: demand seen, at event
time, above what was given), the next decision asks for at least ``m`` times that demand, capped
at ``max(provisioned size, the most demand seen)``, for the knob values that missed only; m 100
is the bound in practice ("a miss buys the next step whole"), 0 the sizing before.

Why: on the real traces a third of forewarn's CPU violation minutes on the large VMs *continue*
a run of misses (the step before was a miss too), although the demand is already seen; the
sizer's forecasters read a one-step jump as a rare event and size the next step as if it were
over. Reactive (the HPA rule, target 0.7) follows a miss by construction. Measured offline on
fold A (``docs/analysis/s22-trace/follow.py``) such a floor buys minutes at 6-28 times the rate
of the lambda curve itself on CPU; trials 37-37b chose m 100 on fold A, fold B scored it
(docs/closedloop.md, session 22). The sizer's learning is untouched (its forecasters score
their own allocations), so the floor acts on the decision only. ``follow_on``: the resources it
applies to (comma separated; "cpu" by default). The fleet engine (``actuators/fleetsizing.py``)
passes no allocation to ``observe``, so it never follows. Pure: no clock, no I/O; event time."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from actuators.fleetprior import FleetPrior, for_sizer, named
from actuators.forecast_sizing import ForewarnSizer
from actuators.sizeday import with_day
from actuators.sizehold import held, unseen
from actuators.sizeyoung import spread, young
from schemas.errors import ConfigError


class FollowingSizer(ForewarnSizer):
    """:class:`ForewarnSizer` whose decision after a miss is at least ``follow`` x the demand
    (the ``forewarn`` policy's class since session 22). Two trials of session 24 on a young
    component (docs/closedloop.md, "A cold start that holds"), off by default, each on the
    resources named (comma separated): ``hold`` holds the provisioned size while the week is
    not yet seen (:mod:`actuators.sizehold`; trial 38, rejected); ``settle`` sizes with the
    first forecaster alone while the history is shorter than the cost combiner's half-life
    (its cost sums are young; trial 39, a screen). Session 25: ``young`` spreads the prior's
    mass over the demand above the most seen while the week is not yet seen
    (:mod:`actuators.sizeyoung`; trial B1); ``fleet_prior`` (a file; ``"builtin"``, the
    default since session 25, is the prior shipped with forewarn; ``""`` or ``"off"``: off)
    starts the histograms from other components' pooled outcomes
    (:mod:`actuators.fleetprior`) on the resources in ``fleet_prior_on`` ("mem"). Session 30:
    ``day`` adds the ``day`` forecaster, the VM's own day (:mod:`actuators.sizeday`), on the
    resources named ("", the default: none)."""

    def __init__(self, *args: Any, follow: float = 100.0, follow_on: str = "cpu",
                 hold: str = "", settle: str = "", young: str = "", fleet_prior: str = "builtin",
                 fleet_prior_on: str = "mem", day: str = "", **kw: Any) -> None:
        if day:
            res = kw.get("resource", args[4] if len(args) > 4 else "cpu")
            kw["forecasters"] = with_day(kw.get("forecasters", self.FORECASTERS[:4]), res, day)
        super().__init__(*args, **kw)
        self.fleet: FleetPrior | None = None
        if named(fleet_prior) and self.resource in str(fleet_prior_on).split(","):
            self.fleet = for_sizer(named(fleet_prior), self.step_s, self.hists[0].half_life)
        self.settle = self.resource in str(settle).split(",")
        spans = [self.PEAK_SPAN[n] for n in self.peaks if n != "ever"]
        self.horizon = max(spans, default=0) if self.resource in str(hold).split(",") else 0
        on_young = self.resource in str(young).split(",")  # young while under a week
        self.young_s = self.PEAK_SPAN["week"] if on_young else 0
        self.first_ts: int | None = None  # the component's first sample (its age's origin)
        if not (math.isfinite(follow) and follow >= 0):
            raise ConfigError("forewarn: follow >= 0 (0: off)")
        on = self.resource in str(follow_on).split(",")
        self.follow = float(follow) if on else 0.0
        self.missed: np.ndarray | None = None  # per knob: the last sample above its allocation

    def observe(self, ts: int, usage: float, allocated: np.ndarray | None = None) -> None:
        if self.first_ts is None:
            self.first_ts = ts
            if self.fleet is not None:
                self.fleet.seed(self.hists, self.names, ts)
        elif self.fleet is not None:
            self.fleet.fade(self.hists, self.names, ts)
        super().observe(ts, usage, allocated)
        if self.follow and allocated is not None:
            self.missed = usage > np.asarray(allocated, dtype=np.float64)

    def _sized(self, ts: int) -> np.ndarray:
        if self.settle and self.first_ts is not None and ts - self.first_ts < self.score_hl:
            costs, self.costs = self.costs, np.zeros_like(self.costs)  # argmin: the first
            out = super().recommend(ts)
            self.costs = costs
            return out
        return super().recommend(ts)

    def recommend(self, ts: int) -> np.ndarray:
        if (self.young_s and self.first_ts is not None and self.prior > 0
                and self.resolved >= max(self.warm, 1)
                and young(ts - self.first_ts, self.young_s)):
            out = self._spread_prior(ts)
        else:
            out = self._sized(ts)
        if self.follow and self.missed is not None and self.missed.any():
            lift = min(self.follow * self.last, max(self.capacity, self.most_seen))
            out = np.where(self.missed, np.maximum(out, lift), out)
            self.alloc = out.copy()
        if self.horizon and self.first_ts is not None and self.level is not None:
            chance = unseen(ts - self.first_ts, self.horizon)
            if chance > 0.0:
                out = held(out, self.capacity, self.lam[:, 0], chance)
                self.alloc = out.copy()
        return out

    def _spread_prior(self, ts: int) -> np.ndarray:
        """:meth:`_sized` with each forecaster's prior mass spread over its buckets above the
        most it has seen, up to the provisioned size (:func:`actuators.sizeyoung.spread`), in
        place of the prior at the size; the histograms are given back as they were."""
        bases, cap = self._bases(), self.capacity + self.unit
        saved = [(h.weights, h.total) for h in self.hists]
        prior = self.prior
        try:
            for h, base in zip(self.hists, bases, strict=True):
                mass = self._prior(h, ts)
                add = spread(h.weights, h.starts, 100.0 * cap / base, mass)
                if add is None:  # nowhere above the most seen: the mass in the size's bucket
                    add = np.zeros(h.weights.size)
                    add[h.index(100.0 * cap / base)] = mass
                h.weights, h.total = h.weights + add, h.total + mass
            self.prior = 0.0
            return self._sized(ts)
        finally:
            self.prior = prior
            for h, (w, t) in zip(self.hists, saved, strict=True):
                h.weights, h.total = w, t
