"""A window's outlook computed for all metrics at once equals the per-metric reference, bit for
bit; the fragmentation pattern fires on a climbing sawtooth floor and on nothing else."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from processors.drift import MetricOutlook
from processors.features import MetricFeatures
from processors.forecast import SeasonalTrendForecaster
from processors.health import Rule
from processors.outlook import observe_window
from processors.risk import estimate_breach, pattern_of

GRID = list(range(0, 901, 60))
HORIZONS = (60, 300, 900, 1800)  # 1800 s is beyond the grid: forecast on its own


def features(mean: float, volatility: float, ts_ms: int) -> MetricFeatures:
    return MetricFeatures(mean, mean + volatility, mean - volatility, mean, mean, 0.0, 0.0,
                          volatility, 0.0, count=6, ts_mean_ms=ts_ms)


def reference(o: MetricOutlook, f: MetricFeatures, rules: list[Rule], origin_ms: int
              ) -> tuple[list[dict[str, float]], list[object]]:
    """What the per-metric code gives: forecasts one horizon at a time, breaches point by
    point (``o`` must already have learnt the window)."""
    fc = o.forecaster
    points = fc.forecast(GRID, origin_ms=origin_ms)
    by_h = {p.horizon_s: p for p in points}
    records = []
    for h in HORIZONS:
        p = by_h.get(h) or next(iter(fc.forecast([h], origin_ms=origin_ms)), None)
        if p is not None:
            records.append({"mean": p.mean, "lower": p.lower, "upper": p.upper})
    estimates = [estimate_breach(r.metric, r.fail, r.sign, points, f.volatility) for r in rules]
    return records, [e for e in estimates if e is not None]


@pytest.mark.parametrize("kind", ["seasonal", "trend", "snarimax"])
def test_the_batched_outlook_equals_the_per_metric_reference_bit_for_bit(kind: str) -> None:
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
    assert f.offsets_at(at, level).tolist() == [f.offset(float(i), level) for i in at]


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
