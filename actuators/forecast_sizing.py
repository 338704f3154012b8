"""forewarn's right-sizing: an upper quantile of *forecast demand*, learnt per component, by
cost (one knob), with the pipeline's risk as the override (see :mod:`actuators.rightsize`)."""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from actuators.signal import signal
from actuators.sizecharge import check_charge, expected_use
from actuators.sizeday import day_base
from actuators.sizerbase import DAY, GIB_KB, HOUR, MHZ_PER_CORE, DecayingHistogram, Sizer
from actuators.sizeruns import candidates, exact, ones
from schemas.errors import ConfigError

Pick = np.ndarray | None  # per knob: the chosen allocation and its P(demand > a)


class ForewarnSizer(Sizer):
    """forewarn's sizing: the allocation that covers the forecast demand over the time it will
    be in effect, ``[now + delay, now + delay + step)``, learnt per component.

    * **forecast distributions**: each of up to four forecasters keeps, per component, a decaying
      histogram (half-life ``spread_half_life_s``) of what then happened — the largest demand in
      that window, plus ``u`` (1 % of the provisioned size, so an idle component has a scale) —
      as a ratio to its own point forecast ``b``, recorded once the window has passed:

      - ``level``: ``b`` = the larger of the recent level (EWMA, half-life
        ``level_half_life_s``) and the last sample (demand that wanders, CPU);
      - ``window``: ``b`` = ``u`` as first given (fixed): the distribution of demand itself,
        as VPA's and Autopilot's histograms (demand that is noise around a level, memory);
      - ``peak``: ``b`` = the component's peak of the last day;
      - ``week``: ``b`` = its peak of the last seven days (rare bursts: the high-slack end);
      - ``ever`` (off by default: trial 20 of docs/closedloop.md): ``b`` = its peak so far;

    * **prior**: each distribution also holds the provisioned size as one outcome of weight
      ``prior`` (1; a sample weighs 1 when new, about 2,900 in all at a 7-day half-life and
      5-minute steps): early on it weighs much, so the cold start is what ``lambda`` makes of
      the provisioned size, and at a tiny ``lambda`` the provisioned size is kept;
    * **combination** (``combine="cost"``, the default): per knob value, the forecaster
      whose own sizing cost least lately (violations + ``lambda`` x allocation, decayed with
      half-life ``score_half_life_s``); ``"mixture"``: the forecasters' mixture weighted by
      their decayed log predictive density (Bayesian model averaging);
    * **sizing**: over the candidate allocations (the histograms' bucket ends times their
      ``b``), the one that minimises ``P(demand > a) + lambda * a``: capacity is added while
      one more core (cpu) or GiB (mem) still cuts the probability of a violation by
      ``lambda`` (the knob, 0.01: 1 % per core / GiB). A large component gets a lower quantile
      than a small one, as a fleet that pays for capacity wants; but never one with a chance
      of a violation over ``most_risk`` (0.2), so a large lambda sizes at the P80 instead of
      giving a big component up. ``cost=False`` reads the knob as a plain quantile instead;
      ``price="size"`` prices per the component's own provisioned size instead of per core /
      GiB (every size gets the same quantile; off by default: trial 19); ``size_exponent``
      ``beta`` in between: ``lambda`` per core / GiB times ``(1 core or GiB / C) ** beta``
      (0, the default, is per core / GiB; 1 is per size; trial 21); ``price_scale="peak"``
      puts the component's own peak demand so far (learnt online, at least ``u``) in place of
      ``C`` there; ``charge`` ``kappa`` (1, the default since session 21; 0 before) charges
      ``lambda * (a - kappa * E[min(demand, a)])``: 1 prices the expected *unused* capacity;
    * **calibration** (``calibrate`` ``c`` > 0; 0, off, is the default): per knob, the decayed
      count of windows whose demand went over the chosen allocation (seen) against the sum of
      the chances the sizing gave them (expected), both with the histograms' half-life; the
      sizing then reads ``P(demand > a)`` times ``(seen + c) / (expected + c)`` (only with
      ``combine="cost"``);
    * **ceiling** (``"mem"``, the default since session 18; ``True`` every resource,
      ``False`` none, or the resources named): never more than the provisioned size or, if
      larger, the most demand seen (the ratio forecasts scale past it on a high base);
    * **cold start**: the prior alone (``warm`` 0, the default): the provisioned size until
      the component's own ``n`` outcomes outweigh it: the prior's share ``1/(n + 1)`` (the
      chance of a violation it removes) under ``most_risk`` (0.2: five outcomes) and under
      ``lambda`` x the capacity it holds over the demand (longer at a small ``lambda``);
      never before the first outcome; ``warm`` > 0: until that many outcomes are in;
    * **override**: when the pipeline's risk is at or over ``risk_threshold``, or its anomaly
      at or over ``anomaly_threshold``, the allocation is at least the pipeline's forecast upper
      bound of the demand (its ``cpu.util`` / ``mem.used_pct`` forecast times the provisioned
      size) and the largest demand of the last hour, until ``override_s`` after the risk;
      with ``override_cost`` (the default) bought by the same rule as the sizing: only where
      the risk it answers (the largest risk or anomaly of the episode, read as the chance of
      a violation it removes) is at least ``lambda`` x the capacity it adds (per core /
      GiB), so a fleet that prices capacity high is not lifted for hours by an alarm.
    """

    policy = "forewarn"
    METRIC = {"cpu": ("cpu.util", 1.0), "mem": ("mem.used_pct", 0.01)}
    FORECASTERS = ("level", "window", "peak", "week", "ever", "day")
    PEAK_SPAN = {"peak": DAY, "week": 7 * DAY, "ever": 1 << 62}

    def __init__(self, *args: Any, level_half_life_s: int = 900,
                 spread_half_life_s: int = 7 * DAY, score_half_life_s: int = 3 * DAY,
                 warm: int = 0, risk_threshold: float = 0.6, anomaly_threshold: float = 0.9,
                 override_s: int = HOUR, cost: bool = True,
                 forecasters: Sequence[str] = FORECASTERS[:4], combine: str = "cost",
                 prior: float = 1.0, most_risk: float = 0.2, override_cost: bool = True,
                 price: str = "gib", size_exponent: float = 0.0, price_scale: str = "size",
                 calibrate: float = 0.0, ceiling: bool | str = "mem", charge: float = 1.0,
                 **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.cost = cost
        if cost and np.any(self.knobs <= 0):
            raise ConfigError("forewarn: lambda > 0")
        if not cost and (np.any(self.knobs <= 0) or np.any(self.knobs >= 1)):
            raise ConfigError("forewarn: quantile within (0, 1)")
        bad = [f for f in forecasters if f not in self.FORECASTERS]
        if bad or not forecasters:
            raise ConfigError(f"forewarn: forecasters among {self.FORECASTERS}, not {bad}")
        if combine not in ("cost", "mixture"):
            raise ConfigError("forewarn: combine is 'cost' or 'mixture'")
        if prior < 0:
            raise ConfigError("forewarn: prior >= 0")
        self.combine, self.prior = combine, float(prior)
        self.charge = check_charge(charge, combine, cost)
        if not 0 < most_risk <= 1:
            raise ConfigError("forewarn: most_risk within (0, 1]")
        self.most_risk = float(most_risk)
        self._set_calibration(calibrate)
        self.ceiling = ceiling if isinstance(ceiling, bool) else self.resource in ceiling.split(",")
        self.most_seen = 0.0  # the largest demand observed
        self.level_hl = level_half_life_s
        self.unit = max(0.01 * self.capacity, 1e-6)
        self._set_price(price, size_exponent, price_scale)
        self.scale = self.unit  # the window forecaster's b: fixed, so its ratios keep a scale
        self.names = tuple(forecasters)
        # ratio * 100 of what happened over each forecaster's b: up to 10^4 times b
        self.hists = [DecayingHistogram(0.01, 1.02, 1e6, spread_half_life_s)
                      for _ in self.names]
        self.widths = np.diff(self.hists[0].starts) / 100.0  # bucket widths, in ratio
        self.score = np.zeros(len(self.names))  # decayed log predictive density
        # per knob and forecaster: decayed violations + lambda * allocation of its own sizing
        self.costs = np.zeros((self.knobs.size, len(self.names)))
        self.score_hl = score_half_life_s
        self.score_ts: int | None = None
        self.resolved = 0
        self.warm = warm
        self.level: float | None = None
        self.last_ts: int | None = None
        self.last = 0.0
        # (decision ts, each forecaster's b, its allocation per knob or None, calibration's)
        self.pending: deque[tuple[int, np.ndarray, np.ndarray | None, Pick]] = deque()
        self.hist_ts: list[int] = []  # about a day of demand, for the windows
        self.hist_v: list[float] = []
        # per peak forecaster: the max of its span, as a monotone deque of (ts, demand)
        self.peaks: dict[str, deque[tuple[int, float]]] = {
            n: deque() for n in self.names if n in self.PEAK_SPAN}
        self.risk_threshold, self.anomaly_threshold = risk_threshold, anomaly_threshold
        self.override_s = override_s
        self.override_until, self.override_level, self.override_risk = -1, 0.0, 0.0
        self.override_cost = bool(override_cost)

    def _max_between(self, start: int, end: int) -> float | None:
        i = bisect.bisect_left(self.hist_ts, start)
        j = bisect.bisect_left(self.hist_ts, end)
        return max(self.hist_v[i:j]) if j > i else None

    def weights(self) -> np.ndarray:
        """Each forecaster's weight in the mixture (they sum to 1)."""
        w = np.exp(self.score - self.score.max())
        weights: np.ndarray = w / w.sum()
        return weights

    def _set_price(self, price: str, size_exponent: float, price_scale: str) -> None:
        if price not in ("gib", "size"):
            raise ConfigError("forewarn: price is 'gib' or 'size'")
        if not 0.0 <= size_exponent <= 1.0:
            raise ConfigError("forewarn: size_exponent within [0, 1]")
        if price_scale not in ("size", "peak"):
            raise ConfigError("forewarn: price_scale is 'size' or 'peak'")
        self.price, self.size_exponent = price, float(size_exponent)
        self.price_scale = price_scale
        self.peak_seen = 0.0  # the largest demand observed (price_scale "peak")
        self.lam = self._price()

    def _price(self) -> np.ndarray:
        """lambda per unit of allocation: per core / GiB (``price="gib"``), or per the
        component's own provisioned size (``"size"``: every size gets the same quantile); with
        ``size_exponent`` beta, per core / GiB times ``(1 core or GiB / size) ** beta``, the size
        being the provisioned one or (``price_scale="peak"``) the peak demand so far."""
        if self.price == "size":
            per = max(self.capacity, 1e-6)
        else:
            per = GIB_KB if self.resource == "mem" else MHZ_PER_CORE
            if self.size_exponent:
                size = self.capacity if self.price_scale == "size" else self.peak_seen
                per *= (max(size, self.unit) / per) ** self.size_exponent
        lam: np.ndarray = self.knobs[:, None] / per
        return lam

    def observe_capacity(self, ts: int, capacity: float) -> None:
        """A new provisioned size: the unit ``u``, the floor, the prior and the cold start
        follow it (the histograms keep what was learnt: ratios to each outcome's own ``b``)."""
        super().observe_capacity(ts, capacity)
        self.unit = max(0.01 * self.capacity, 1e-6)
        self.lam = self._price()

    def observe(self, ts: int, usage: float, allocated: np.ndarray | None = None) -> None:
        if self.level is None or self.last_ts is None:
            self.level = usage
        else:
            a = 1.0 - 2.0 ** (-(ts - self.last_ts) / self.level_hl)
            self.level += a * (usage - self.level)
        self.last_ts, self.last = ts, usage
        self.most_seen = max(self.most_seen, usage)
        if self.price_scale == "peak" and usage > self.peak_seen:
            self.peak_seen = usage
            self.lam = self._price()
        self.hist_ts.append(ts)
        self.hist_v.append(usage)
        if len(self.hist_ts) > 4096:  # keep about a day and a bit
            cut = bisect.bisect_left(self.hist_ts, ts - DAY - 2 * HOUR)
            del self.hist_ts[:cut], self.hist_v[:cut]
        for name, peak in self.peaks.items():
            while peak and peak[-1][1] <= usage:
                peak.pop()
            peak.append((ts, usage))
            while peak[0][0] <= ts - self.PEAK_SPAN[name]:
                peak.popleft()
        span = self.delay_s + self.step_s
        while self.pending and ts >= self.pending[0][0] + span:
            t0, bases, own, pick = self.pending.popleft()
            got = self._max_between(t0 + self.delay_s, t0 + span)
            if got is not None:
                self._learn(ts, got + self.unit, bases, own)
                if pick is not None:
                    self._calibrate(ts, got + self.unit, pick)

    def _learn(self, ts: int, got: float, bases: np.ndarray, own: np.ndarray | None) -> None:
        if self.score_ts is not None and len(self.names) > 1:
            decay = 2.0 ** (-(ts - self.score_ts) / self.score_hl)
            self.score *= decay
            self.costs *= decay
        self.score_ts = ts
        if own is not None:  # with ``charge``, what demand used of ``own`` is not charged
            used = self.charge * np.minimum(got, own) if self.charge else 0.0
            self.costs += (got > own) + self.lam * (own - used)
        for i, h in enumerate(self.hists):
            ratio = 100.0 * got / bases[i]
            if len(self.names) > 1 and not h.empty():
                j = h.index(ratio)
                density = h.weights[j] / h.total / (self.widths[j] * bases[i])
                self.score[i] += math.log(max(density * self.unit, 1e-9))
            h.add(ratio, 1.0, ts)
        self.resolved += 1

    def _set_calibration(self, calibrate: float) -> None:
        if calibrate < 0:
            raise ConfigError("forewarn: calibrate >= 0 (0: off)")
        self.calibrate = float(calibrate)
        # per knob: decayed exceedances of the chosen allocation, seen and predicted; pending
        # holds, with ``calibrate``, the chosen allocation and its P(demand > a) per knob
        self.seen = np.zeros(self.knobs.size)
        self.expected = np.zeros(self.knobs.size)
        self.cal_ts: int | None = None

    def _calibrate(self, ts: int, got: float, pick: np.ndarray) -> None:
        """Count, per knob, whether the demand went over the chosen allocation and the
        chance the sizing gave it, both decayed with the histograms' half-life."""
        if self.cal_ts is not None:
            decay = 2.0 ** (-(ts - self.cal_ts) / self.hists[0].half_life)
            self.seen, self.expected = self.seen * decay, self.expected * decay
        self.cal_ts = ts
        self.seen = self.seen + (got > pick[:, 0])
        self.expected = self.expected + pick[:, 1]

    def tail_factor(self) -> np.ndarray:
        """Per knob, the calibration of the predicted exceedance: (seen + c) / (expected + c),
        ``c`` = ``calibrate`` exceedances' worth of prior belief that it is right (factor 1)."""
        c = self.calibrate
        factor: np.ndarray = (self.seen + c) / (self.expected + c)
        return factor

    def on_risk(self, risk: Mapping[str, Any]) -> None:
        r, an = signal(risk)  # act if present: not the alarm's discounts or hold
        if r < self.risk_threshold and an < self.anomaly_threshold:
            return
        ts = int(risk["ts"]) // 1000
        metric, scale = self.METRIC.get(self.resource, ("", 0.0))
        want = self._max_between(ts - HOUR, ts + 1) or 0.0
        horizon = self.delay_s + self.step_s
        for f in risk.get("forecasts") or ():
            if f.get("metric") == metric and f.get("horizon_s", 0) <= max(horizon, 300):
                upper = f.get("upper")
                if isinstance(upper, int | float) and math.isfinite(upper):
                    want = max(want, float(upper) * scale * self.capacity)
        if ts > self.override_until:
            self.override_level, self.override_risk = 0.0, 0.0
        self.override_until = ts + self.override_s
        self.override_level = max(want, self.override_level)
        self.override_risk = max(self.override_risk, min(max(r, an), 1.0))

    def _bases(self) -> np.ndarray:
        out = []
        for name in self.names:
            if name == "level":
                out.append(max(self.level or 0.0, self.last) + self.unit)
            elif name == "window":
                out.append(self.scale)
            elif name == "day":  # the VM's own day (:mod:`actuators.sizeday`; off by default)
                out.append(day_base(self.hist_ts, self.hist_v, self.last_ts or 0, self.delay_s
                                    + self.step_s, self.delay_s, self.last) + self.unit)
            else:
                peak = self.peaks[name]
                out.append((peak[0][1] if peak else self.last) + self.unit)
        return np.asarray(out)

    def _prior(self, h: DecayingHistogram, ts: int) -> float:
        """The prior's weight in ``h``'s units at ``ts`` (a sample weighs 1 when it is new)."""
        if self.prior <= 0:
            return 0.0
        return self.prior * (2.0 ** ((ts - h.ref) / h.half_life) if h.ref is not None else 1.0)

    def _one(self, i: int, base: float, ts: int) -> tuple[np.ndarray, np.ndarray]:
        """Forecaster ``i``'s own allocation (plus ``u``) per knob, and its predicted
        P(demand > a) there: its histogram's survival with the prior (the provisioned size,
        weight ``prior``) mixed in; with ``calibrate``, the survival times each knob's
        :meth:`tail_factor` in the cost."""
        h = self.hists[i]
        prior, cap = self._prior(h, ts), self.capacity + self.unit
        amounts, weights = candidates(base * h.starts[1:] / 100.0, h.weights, cap, exact(
            self.cost, self.charge, self.most_risk, self.calibrate))  # the same choice, faster
        cum = np.cumsum(weights)
        k = int(np.searchsorted(amounts, cap, side="right"))  # buckets ending at or under cap
        cand = np.append(amounts, cap)
        mass = np.append(h.total - cum + prior * (amounts < cap),
                         h.total - (cum[k - 1] if k > 0 else 0.0))
        surv = mass / max(h.total + prior, 1e-300)
        if not self.cost:
            order = np.argsort(cand, kind="stable")
            cand, surv = cand[order], surv[order]
            idx = np.searchsorted(-surv, -(1.0 - self.knobs))
            at_q = np.minimum(idx, cand.size - 1)
            return cand[at_q], surv[at_q]
        price = cand  # what lambda prices: every unit, or (``charge``) what goes unused
        if self.charge:
            price = cand - self.charge * expected_use(amounts, weights, h.total, prior, cap, surv)
        risk = self.tail_factor()[:, None] * surv[None, :] if self.calibrate else surv[None, :]
        cost = np.where(risk <= self.most_risk, risk, np.inf) + self.lam * price[None, :]
        j = np.argmin(cost, axis=1)
        return cand[j], surv[j]

    def _size(self, bases: np.ndarray, ts: int) -> np.ndarray:
        """The allocation (plus ``u``) per knob under the weighted mixture (and the prior)."""
        w = self.weights()
        amounts = [b * h.starts[1:] / 100.0 for b, h in zip(bases, self.hists, strict=True)]
        survs = [1.0 - np.cumsum(h.weights) / max(h.total, 1e-300) for h in self.hists]
        if len(amounts) == 1:
            grid, surv = amounts[0], survs[0]
        else:
            grid = np.unique(np.concatenate(amounts))
            surv = np.zeros(grid.size)
            for wi, a, s in zip(w, amounts, survs, strict=True):
                if wi < 1e-4:
                    continue
                i = np.searchsorted(a, grid, side="right") - 1  # survival is a step function
                surv += wi * np.where(i >= 0, s[np.maximum(i, 0)], 1.0)
        h, cap = self.hists[0], self.capacity + self.unit
        prior = self._prior(h, ts)
        if prior > 0:
            share = prior / (h.total + prior)
            at = int(np.searchsorted(grid, cap, side="right")) - 1
            surv = np.append((1 - share) * surv + share * (grid < cap),
                             (1 - share) * (surv[at] if at >= 0 else 1.0))
            grid = np.append(grid, cap)
            order = np.argsort(grid, kind="stable")
            grid, surv = grid[order], surv[order]
        if not self.cost:
            idx = np.searchsorted(-surv, -(1.0 - self.knobs))  # first a with surv <= 1 - q
            at_q: np.ndarray = grid[np.minimum(idx, grid.size - 1)]
            return at_q
        cost = np.where(surv <= self.most_risk, surv, np.inf)[None, :] + self.lam * grid[None, :]
        j = np.argmin(cost, axis=1)
        best: np.ndarray = grid[j]
        return best

    def recommend(self, ts: int) -> np.ndarray:
        if self.level is None:
            return self.alloc.copy()
        bases = self._bases()
        own = pick = None
        if self.resolved < max(self.warm, 1):
            self.alloc = np.full(self.knobs.size, max(self.capacity, float(bases[0])))
        elif self.combine == "cost" and len(self.names) > 1:
            own, ps = ones(self, bases, ts)  # each forecaster's _one (knob, forecaster)
            rows, best = np.arange(self.knobs.size), np.argmin(self.costs, axis=1)
            chosen = own[rows, best]
            if self.calibrate:
                pick = np.stack([chosen, ps[rows, best]], axis=1)
            self.alloc = np.maximum(chosen - self.unit, self.floor)
        else:
            self.alloc = np.maximum(self._size(bases, ts) - self.unit, self.floor)
        self.pending.append((ts, bases, own, pick))
        if ts <= self.override_until:
            lift = np.maximum(self.override_level - self.alloc, 0.0)
            if self.override_cost:  # worth it while the risk it removes exceeds lambda x lift
                lift = np.where(self.override_risk >= self.lam[:, 0] * lift, lift, 0.0)
            self.alloc = self.alloc + lift
        if self.ceiling:  # no more than the size given, or than the most demand seen
            self.alloc = np.minimum(self.alloc, max(self.capacity, self.most_seen))
        return self.alloc.copy()
