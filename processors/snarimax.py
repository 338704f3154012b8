"""River's ``SNARIMAX`` behind the :class:`~processors.forecast.Forecaster` seam (the opt-in
``forecaster = "snarimax"``; its River state has no explicit checkpoint format, see
``processors/stateformat.py``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from river import time_series

from processors.forecast import Z_95, ForecastPoint, TrendFit, fit_trend


class SnarimaxForecaster:
    """River ``SNARIMAX(p, d, q)`` on one point per ``step_s`` (one window).

    Gaps in the series are ignored (points are taken as consecutive steps). The spread is an
    exponentially weighted RMS of one-step errors, taken before each point is learnt.
    """

    def __init__(
        self,
        step_s: int = 60,
        p: int = 2,
        d: int = 1,
        q: int = 1,
        m: int = 1,
        sp: int = 0,
        sd: int = 0,
        sq: int = 0,
        min_points: int = 6,
        z: float = Z_95,
        alpha: float = 0.1,
        min_std_abs: float = 1e-9,
        min_std_rel: float = 0.005,
    ) -> None:
        self.step_s = step_s
        self.p, self.d, self.q, self.m, self.sp, self.sd, self.sq = p, d, q, m, sp, sd, sq
        self.min_points = min_points
        self.z = z
        self.alpha = alpha
        self.min_std_abs = min_std_abs
        self.min_std_rel = min_std_rel
        # River is untyped: Any keeps strict type checking quiet about its calls
        self.model: Any = time_series.SNARIMAX(p=p, d=d, q=q, m=m, sp=sp, sd=sd, sq=sq)
        self.n = 0
        self.last_ts_ms: int | None = None
        self.last_value = 0.0
        self.err_var: float | None = None
        self.recent: list[tuple[int, float]] = []  # for trend(): the last ten points

    def trend(self) -> TrendFit | None:
        return fit_trend([t for t, _ in self.recent], [v for _, v in self.recent])

    def learn_one(self, ts_ms: int, value: float) -> None:
        if not math.isfinite(value) or (self.last_ts_ms is not None and ts_ms <= self.last_ts_ms):
            return None
        if self.n >= self.min_points:
            err = value - float(self.model.forecast(horizon=1)[0])
            if math.isfinite(err):
                sq = err * err
                self.err_var = (
                    sq
                    if self.err_var is None
                    else ((1 - self.alpha) * self.err_var + self.alpha * sq)
                )
        self.model.learn_one(float(value))
        self.n += 1
        self.last_ts_ms = int(ts_ms)
        self.last_value = float(value)
        self.recent.append((self.last_ts_ms, self.last_value))
        del self.recent[:-10]
        return None

    def forecast(
        self, horizons_s: Sequence[int], origin_ms: int | None = None
    ) -> list[ForecastPoint]:
        if self.n < self.min_points or self.last_ts_ms is None or not horizons_s:
            return []
        offset = 0.0 if origin_ms is None else (origin_ms - self.last_ts_ms) / 1000.0
        steps = [max(1, math.ceil((offset + h) / self.step_s - 1e-9)) for h in horizons_s]
        path = [float(v) for v in self.model.forecast(horizon=max(steps))]
        floor = max(self.min_std_abs, self.min_std_rel * abs(self.last_value))
        s1 = max(math.sqrt(self.err_var) if self.err_var is not None else 0.0, floor)
        out = []
        for h, k in zip(horizons_s, steps, strict=True):
            mean = path[k - 1] if math.isfinite(path[k - 1]) else self.last_value
            std = s1 * math.sqrt(k)
            if math.isfinite(std):
                out.append(
                    ForecastPoint(int(h), mean, mean - self.z * std, mean + self.z * std, std)
                )
        return out
