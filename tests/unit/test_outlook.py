"""A window's outlook computed for all metrics at once equals the per-metric reference, bit for
bit; the fragmentation pattern fires on a climbing sawtooth floor and on nothing else."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from processors import dayprofile
from processors.features import MetricFeatures
from processors.forecast import (
    Forecaster,
    ForecastPoint,
    SeasonalTrendForecaster,
    TrendForecaster,
    make_forecaster,
)
from processors.health import Rule
from processors.metricoutlook import MetricOutlook
from processors.outlook import observe_window
from processors.risk import estimate_breach, pattern_of

GRID = list(range(0, 901, 60))
HORIZONS = (60, 300, 900, 1800)  # 1800 s is beyond the grid: forecast on its own


def features(mean: float, volatility: float, ts_ms: int) -> MetricFeatures:
    return MetricFeatures(mean, mean + volatility, mean - volatility, mean, mean, 0.0, 0.0,
                          volatility, 0.0, count=6, ts_mean_ms=ts_ms)


def scalar_offset(f: SeasonalTrendForecaster, i: float, level: float) -> float:
    """The seasonal offset of point ``i``, one point at a time: the scalar code the forecaster
    had before ``offsets_at`` became its only form (the oracle of these tests)."""
    h, p = f.history, f.history.period
    if p is None or len(h) < p + 1:
        return 0.0
    pos = (i + 0.5) / f.block - 0.5 - p  # fractional block index, one season back
    latest = h.n - 1
    lo = math.floor(pos)
    frac = pos - lo
    out = 0.0
    for blk, w in ((lo, 1.0 - frac), (lo + 1, frac)):
        lag = latest - blk + 1
        v = h.ago(lag) if 1 <= lag <= len(h) else h.ago(max(1, min(len(h), lag)))
        out += w * v
    return out - level


def scalar_forecast(fc: Forecaster, horizons_s: list[int], origin_ms: int | None = None
                    ) -> list[ForecastPoint]:
    """A line forecaster's forecast one horizon at a time in plain Python: the code
    ``TrendForecaster.forecast`` had before ``line_rows`` became the one implementation
    (#10). Other forecasters: their own."""
    if not isinstance(fc, TrendForecaster):
        return fc.forecast(horizons_s, origin_ms)
    fit = fc._fit
    if fit is None:
        return []
    offset = 0.0 if origin_ms is None else (origin_ms - fc.ts_ms[-1]) / 1000.0
    a, b, s, z = fit.intercept, fit.slope, fc._s, fc.z
    tm, sxx, inv_n = fit.t_mean_s, fit.sxx, 1.0 / fit.n
    out = []
    for h in horizons_s:
        x = offset + h
        mean = a + b * x
        std = s * math.sqrt(1.0 + inv_n + (x - tm) ** 2 / sxx)
        if math.isfinite(mean) and math.isfinite(std):
            out.append(ForecastPoint(int(h), mean, mean - z * std, mean + z * std, std))
    if not isinstance(fc, SeasonalTrendForecaster) or fc.history.period is None or not out:
        return out
    level = fc._level()
    shifted = []
    for p in out:
        d = scalar_offset(fc, fc.n - 1 + (offset + p.horizon_s) / fc.step_s, level)
        shifted.append(ForecastPoint(p.horizon_s, p.mean + d, p.lower + d, p.upper + d, p.std))
    return shifted


def reference(o: MetricOutlook, f: MetricFeatures, rules: list[Rule], origin_ms: int
              ) -> tuple[list[dict[str, float]], list[object]]:
    """What the per-metric code gives: forecasts one horizon at a time, breaches point by
    point (``o`` must already have learnt the window)."""
    fc = o.forecaster
    points = scalar_forecast(fc, GRID, origin_ms=origin_ms)
    by_h = {p.horizon_s: p for p in points}
    records = []
    for h in HORIZONS:
        p = by_h.get(h) or next(iter(scalar_forecast(fc, [h], origin_ms=origin_ms)), None)
        if p is not None:
            records.append({"mean": p.mean, "lower": p.lower, "upper": p.upper})
    estimates = [estimate_breach(r.metric, r.fail, r.sign, points, f.volatility) for r in rules]
    if o.profile is not None and o.profile.blind(origin_ms, max(GRID)):
        b, lv = dayprofile.BLIND, f.mean  # the profile has not seen the horizon: a rise
        # goes on with probability b or stops at the window's mean (the two-way mixture),
        # which prices the crossing; whether and when the forecast crosses stays its own
        mix = [p._replace(mean=lv + b * (p.mean - lv), std=math.sqrt(
            p.std * p.std + (b * (1.0 - b)) * ((p.mean - lv) * (p.mean - lv))))
            for p in points]
        for n, (r, e) in enumerate(zip(rules, estimates, strict=True)):
            w = estimate_breach(r.metric, r.fail, r.sign, mix, f.volatility, z=1e9)
            if e is not None:
                estimates[n] = e.__class__(e.metric, e.threshold, e.eta_s,
                                           w.probability if w else 0.0)
    return records, [e for e in estimates if e is not None]


@pytest.mark.parametrize("blind", [1.0, 0.5])  # dayprofile.BLIND: off, and the mixture
@pytest.mark.parametrize("kind", ["seasonal", "trend", "snarimax"])
def test_the_batched_outlook_equals_the_per_metric_reference_bit_for_bit(
        kind: str, blind: float, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dayprofile, "BLIND", blind)
    rng = np.random.default_rng(11)
    shapes: dict[str, Callable[[int], float]] = {
        "cpu.util": lambda i: 0.3 + 0.004 * i,  # a ramp towards FAIL
        "mem.used_pct": lambda i: 60 + 8 * math.sin(2 * math.pi * i / 48),  # a season
        "disk.used_pct": lambda i: 40.0,  # flat
        "latency.p99_ms": lambda i: 900 - 2 * i,  # a "below"-style fall, judged by both
    }
    rules = {
        "cpu.util": [Rule("cpu.util", warn=0.8, fail=0.95)],
        "mem.used_pct": [Rule("mem.used_pct", warn=85, fail=95)],
        "disk.used_pct": [Rule("disk.used_pct", warn=85, fail=95)],
        "latency.p99_ms": [Rule("latency.p99_ms", fail=1000.0),
                           Rule("latency.p99_ms", fail=300.0, direction="below")],
    }
    batched = {m: MetricOutlook(kind, 60) for m in shapes}
    single = {m: MetricOutlook(kind, 60) for m in shapes}
    seasons = 0
    for i in range(400):
        ts = i * 60_000
        feats = {m: features(fn(i) + 0.01 * float(rng.standard_normal()), 0.02 + 0.01 * (i % 3),
                             ts + 30_000) for m, fn in shapes.items()}
        items = [(m, feats[m], batched[m], rules[m]) for m in shapes]
        got = observe_window(items, ts + 60_000, {}, GRID, HORIZONS)
        for m in shapes:
            single[m].learn_one(feats[m].ts_mean_ms, feats[m].mean)
            records, estimates = reference(single[m], feats[m], rules[m], ts + 60_000)
            mine = [{k: r[k] for k in ("mean", "lower", "upper")}
                    for r in got.forecasts if r["metric"] == m]
            assert mine == records, (i, m)
            assert got.estimates[m] == estimates, (i, m)
        seasons += single["mem.used_pct"].period is not None
    assert any(got.estimates.values())
    if kind == "seasonal":
        assert seasons > 50  # the seasonal offsets were exercised


def test_seasonal_offsets_for_many_points_equal_the_scalar_ones() -> None:
    f = SeasonalTrendForecaster(step_s=60)
    for i in range(600):
        f.learn_one(i * 60_000, 50 + 10 * math.sin(2 * math.pi * i / 96) + 0.001 * i)
    assert f.period_points is not None
    at = np.asarray([f.n - 12.5, f.n - 1.0, f.n + 0.25, f.n + 14.0, f.n + 200.0])
    level = f._level()
    assert f.offsets_at(at, level).tolist() == [scalar_offset(f, float(i), level) for i in at]


@pytest.mark.parametrize("kind", ["seasonal", "trend"])
def test_a_forecasters_own_forecast_equals_the_scalar_oracle(kind: str) -> None:
    """``forecast()`` is ``line_rows`` for one line: equal to the scalar code bit for bit."""
    fc = make_forecaster(kind, 60)
    horizons, sizes = [0, 60, 300, 900, 1800, 10**7], set()
    for i in range(700):
        fc.learn_one(i * 60_000, 50 + 10 * math.sin(2 * math.pi * i / 96) + 0.01 * i)
        for origin in (None, i * 60_000 + 45_000):
            want = scalar_forecast(fc, horizons, origin)
            assert fc.forecast(horizons, origin) == want, (i, origin)
            sizes.add(len(want))
            for few in ([60], [0, 1800]):  # offsets on floats, not arrays, for one or two
                assert fc.forecast(few, origin) == scalar_forecast(fc, few, origin), (i, few)
    assert kind == "trend" or fc.offsets([60]) is not None  # a season was found
    assert sizes == {0, len(horizons)}  # cold, then warm
    # a horizon whose spread is not finite is left out (the scalar code raised OverflowError)
    assert [p.horizon_s for p in fc.forecast([60, 10**200])] == [60]


def series(kind: str, n: int, seed: int) -> list[float]:
    """Window means of memory use: 12-window cycles where there is a sawtooth."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        cycle, phase = divmod(i, 12)
        v = {
            "fragmentation": 40 + 1.5 * cycle + 20 * phase / 11,
            "sawtooth": 40 + 20 * phase / 11,
            "linear": 40 + 0.1 * i,
            "exponential": 40 * 1.004**i,
            "seasonal": 50 + 10 * math.sin(2 * math.pi * i / 60),
            "flat": 50.0,
        }[kind]
        out.append(v + 0.3 * float(rng.standard_normal()))
    return out


@pytest.mark.parametrize("kind", ["fragmentation", "sawtooth", "linear", "exponential",
                                  "seasonal", "flat"])
def test_fragmentation_fires_on_a_climbing_floor_only(kind: str) -> None:
    for seed in range(3):
        o = MetricOutlook("seasonal", 60)
        fired = []
        for i, v in enumerate(series(kind, 400, seed)):
            o.learn_one(i * 60_000, v)
            fired.append(o.fragmented(1.0))
        if kind == "fragmentation":
            assert fired.index(True) <= 12 * 7  # after six troughs
            assert sum(fired) > 0.8 * len(fired) - 12 * 7
            assert not o.fragmented(-1.0)  # a "below" rule's metric is not memory
        else:
            assert not any(fired), (kind, seed)


def test_the_fragmentation_pattern_is_named_before_the_line_of_a_rising_tooth() -> None:
    o = MetricOutlook("seasonal", 60)
    for i, v in enumerate(series("fragmentation", 200, 0)):
        o.learn_one(i * 60_000, v)
    fit = o.forecaster.trend()
    args = (fit, 1.0, 0.0, 0.5, 60.0, 61.0, False)
    assert pattern_of(*args, fragmented=True) == "pattern:fragmentation"
    assert pattern_of(*args, fragmented=False) != "pattern:fragmentation"
    assert pattern_of(*args[:-1], True, fragmented=True) == "pattern:in_breach"
