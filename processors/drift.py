"""One rule metric's outlook: its forecaster, watched by a drift detector.

Before each window mean is learnt, the forecaster's one-step-ahead forecast for it gives a
standardised residual ``z = (value - mean) / std``. River's ``drift.PageHinkley`` (mode "up",
with a forgetting factor ``alpha`` so that noise alone does not add up to a drift over a long
run) watches their size ``min(|z|, 10)``. When it fires (a lasting level shift, or a change of
behaviour the forecaster has not caught up with), the forecaster starts afresh from the point
that showed the drift, so its trend stops pointing along the old jump and its season is looked
for again. ``threshold=0`` turns drift detection off. It also keeps two EW means of the change
per window (fast and slow), to tell accelerating growth (an exponential leak) from a line.

>>> o = MetricOutlook("trend", step_s=60, threshold=10.0)
>>> for i in range(120):
...     o.learn_one(i * 60_000, (10.0 if i < 60 else 40.0) + 0.1 * ((i * 7) % 5 - 2))
>>> o.drifts >= 1
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from river import drift

from processors.features import MetricFeatures
from processors.forecast import Forecaster, make_forecaster
from processors.health import Rule, Status
from processors.risk import BreachEstimate, estimate_breach, pattern_of


class MetricOutlook:
    """A forecaster of one metric's window means and a Page-Hinkley test on its residuals."""

    def __init__(
        self,
        kind: str = "seasonal",
        step_s: int = 60,
        k: int = 10,
        threshold: float = 15.0,
        min_instances: int = 20,
        alpha: float = 0.99,
    ) -> None:
        self.kind = kind
        self.step_s = step_s
        self.k = k
        self.threshold = threshold
        self.min_instances = min_instances
        self.alpha = alpha
        self.forecaster: Forecaster = make_forecaster(kind, step_s, k)
        self.detector: Any = (  # River is untyped
            drift.PageHinkley(
                min_instances=min_instances, threshold=threshold, alpha=alpha, mode="up"
            )
            if threshold > 0
            else None
        )
        self.drifts = 0
        self.last: float | None = None
        self.slope_fast = 0.0  # EW means of the change between consecutive window means
        self.slope_slow = 0.0
        self.n = 0

    def learn_one(self, ts_ms: int, value: float) -> None:
        if not math.isfinite(value):
            return None
        if self.detector is not None:
            expected = self.forecaster.forecast([self.step_s])
            if expected and expected[0].std > 0:
                z = (value - expected[0].mean) / expected[0].std
                self.detector.update(min(10.0, abs(z)))
                if self.detector.drift_detected:
                    self._restart()
        self.forecaster.learn_one(ts_ms, value)
        if self.last is not None:
            d = value - self.last
            self.slope_fast += 0.2 * (d - self.slope_fast)
            self.slope_slow += 0.02 * (d - self.slope_slow)
        self.last = float(value)
        self.n += 1
        return None

    def accelerating(self, sign: float) -> bool:
        """Whether the metric grows (towards ``sign``) ever faster: the recent change per window
        is at least 1.5 times the long-run one, both positive (after 50 windows)."""
        fast, slow = sign * self.slope_fast, sign * self.slope_slow
        return self.n >= 50 and slow > 0 and fast >= 1.5 * slow

    @property
    def period(self) -> int | None:
        """The season found in this metric, in windows (seasonal forecaster only)."""
        p = getattr(self.forecaster, "period_points", None)
        return p if isinstance(p, int) else None

    def _restart(self) -> None:
        """Start the forecaster afresh: it learns from the point that showed the drift on."""
        self.drifts += 1
        self.forecaster = make_forecaster(self.kind, self.step_s, self.k)

    def observe(
        self,
        f: MetricFeatures,
        rules: Sequence[Rule],
        origin_ms: int,
        statuses: Mapping[str, int],
        grid_s: Sequence[int],
        horizons_s: Sequence[int],
    ) -> tuple[list[dict[str, Any]], list[BreachEstimate], str | None]:
        """Learn a closed window's mean, then: the ``Forecast`` records at ``horizons_s``, a
        breach estimate per rule (forecasts on ``grid_s`` from ``origin_ms``), and the name
        of the pattern the metric shows."""
        metric = rules[0].metric
        self.learn_one(f.ts_mean_ms, f.mean)
        fc = self.forecaster
        points = fc.forecast(grid_s, origin_ms=origin_ms)
        by_h = {p.horizon_s: p for p in points}
        records = []
        for h in horizons_s:
            p = by_h.get(h) or next(iter(fc.forecast([h], origin_ms=origin_ms)), None)
            if p is not None:
                records.append(
                    {"metric": metric, "horizon_s": h, "mean": p.mean, "lower": p.lower,
                     "upper": p.upper}
                )
        estimates = []
        pattern = None
        fit = fc.trend()
        for rule in rules:
            est = estimate_breach(metric, rule.fail, rule.sign, points, f.volatility)
            if est is not None:
                estimates.append(est)
            failing = statuses.get(rule.name) == Status.FAIL
            peak = f.max if rule.sign > 0 else f.min
            pattern = pattern or pattern_of(
                fit, rule.sign, f.growth, f.volatility, f.mean, peak, failing,
                accelerating=self.accelerating(rule.sign), periodic=self.period is not None,
            )
        return records, estimates, pattern
