"""Risk learnt from delayed labels: the network, the calibration, drift and seasonal forecasts."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from processors.bayesnet import N_STATES, BayesNet, metric_state
from processors.bincalibrator import BinCalibrator
from processors.calibration import PendingLabels, RiskLearner
from processors.forecast import SeasonalTrendForecaster, TrendForecaster
from processors.metricoutlook import MetricOutlook


def test_metric_states_follow_the_thresholds_both_ways() -> None:
    assert metric_state(0.30, 0.80, 0.95, 1.0, 0.0) == 0  # far below WARN, nothing foreseen
    assert metric_state(0.70, 0.80, 0.95, 1.0, 0.0) == 3  # within one gap of WARN
    assert metric_state(0.90, 0.80, 0.95, 1.0, 0.7) == 8  # WARN, breach >= 50 %
    assert metric_state(0.97, 0.80, 0.95, 1.0, 1.0) == N_STATES - 1
    assert metric_state(5.0, 20.0, 10.0, -1.0, 0.0) == 9  # a "below" rule past its FAIL


def test_the_network_learns_counts_and_names_what_drives_it() -> None:
    bn = BayesNet()
    hot = {"mem.used_pct": 5, "cpu.util": 0}  # mem rising towards FAIL, cpu calm
    calm = {"mem.used_pct": 0, "cpu.util": 0}
    before = bn.probability(hot)
    for _ in range(30):
        bn.learn_one(hot, True)
        bn.learn_one(calm, False)
    assert bn.probability(hot) > before and bn.probability(calm) < 0.05
    why = bn.explain(hot)
    assert why["mem.used_pct"] > 0 > why["cpu.util"]


def test_context_evidence_raises_the_probability() -> None:
    bn = BayesNet()
    assert bn.probability({"cpu.util": 0, "context": 2}) > bn.probability({"cpu.util": 0})


def test_pending_labels_resolve_by_time_and_by_onset() -> None:
    q = PendingLabels(horizon_ms=900_000)
    for end in (60_000, 120_000, 180_000):
        q.add(end, {"breach": end / 1e6}, {"cpu.util": 0})
    assert q.resolve(900_000, positive=False) == []  # no horizon has passed yet
    assert [y for _, _, y in q.resolve(1_000_000, positive=False)] == [False]  # 60 s + 900 s
    assert [y for _, _, y in q.resolve(1_010_000, positive=True)] == [True, True]
    assert not q.items


def test_learning_is_deterministic_and_pickles() -> None:
    rng = np.random.default_rng(3)
    runs = []
    for _ in range(2):
        learner = RiskLearner(lr=0.05)
        for _ in range(300):
            b = float(rng.random())
            learner.learn_one({"breach": b, "warn": 0.0}, {"cpu.util": int(b * 11)}, b > 0.8)
        runs.append(pickle.dumps(learner))
        rng = np.random.default_rng(3)
    assert runs[0] == runs[1]
    twin = pickle.loads(runs[0])
    x = {"breach": 0.9, "warn": 0.0, "fail": 0.0, "anomaly": 0.0}
    assert twin.score_one(x, {"cpu.util": 9}) == pickle.loads(runs[1]).score_one(x, {"cpu.util": 9})


def test_bin_calibration_moves_towards_observed_frequencies_monotonically() -> None:
    cal = BinCalibrator()
    for i in range(400):  # raw 0.95 comes true only half the time
        cal.learn_one(0.95, i % 2 == 0)
        cal.learn_one(0.05, False)
    assert 0.5 <= cal.score_one(0.95) < 0.6
    assert cal.score_one(0.05) < 0.05
    grid = [cal.score_one(k / 100) for k in range(101)]
    assert all(b >= a - 1e-12 for a, b in zip(grid, grid[1:], strict=False))


def test_a_lasting_level_shift_resets_the_forecaster_but_a_ramp_does_not() -> None:
    rng = np.random.default_rng(1)
    shifted, steady = MetricOutlook("trend", 60), MetricOutlook("trend", 60, threshold=0.0)
    high = {"shifted": 0, "steady": 0}
    for i in range(200):
        v = (50.0 if i < 100 else 85.0) + float(rng.standard_normal())
        for name, o in (("shifted", shifted), ("steady", steady)):
            o.learn_one(i * 60_000, v)
            f = o.forecaster.forecast([900])
            high[name] += bool(i >= 100 and f and f[0].mean > 95.0)
    assert shifted.drifts >= 1 and high["shifted"] == 0 < high["steady"]
    ramp = MetricOutlook("trend", 60)
    for i in range(1000):
        ramp.learn_one(i * 60_000, 20.0 + 0.05 * i + float(rng.standard_normal()))
    assert ramp.drifts == 0


def test_the_seasonal_forecaster_finds_the_season_and_beats_the_line() -> None:
    rng = np.random.default_rng(0)
    n, period = 600, 120
    y = 50 + 10 * np.sin(2 * np.pi * np.arange(n) / period) + 0.5 * rng.standard_normal(n)
    seasonal, line = SeasonalTrendForecaster(step_s=60), TrendForecaster()
    errors: dict[str, list[float]] = {"seasonal": [], "line": []}
    for i in range(n - 15):
        for name, f in (("seasonal", seasonal), ("line", line)):
            f.learn_one(i * 60_000, float(y[i]))
            if i > n // 2:
                p = f.forecast([900])[0]
                errors[name].append(abs(p.mean - y[i + 15]))
                assert p.lower <= p.mean <= p.upper and math.isfinite(p.std)
    assert seasonal.period_points == period
    assert np.mean(errors["seasonal"]) < 0.5 * np.mean(errors["line"])


def test_negative_labels_under_an_action_are_skipped_but_breaches_are_learnt() -> None:
    q = PendingLabels(horizon_ms=300_000)
    for end in (60_000, 120_000, 180_000, 600_000):
        q.add(end, {"breach": end / 1e6}, {})
    q.act(400_000, 450_000)  # within the horizons (end, end + 300 s] of 120 s and 180 s
    assert [y for _, _, y in q.resolve(500_000, positive=False)] == [False]  # 60 s: learnt
    assert q.skipped == 2 and len(q.items) == 1
    q.act(620_000, 700_000)
    assert [y for _, _, y in q.resolve(650_000, positive=True)] == [True]  # a FAIL anyway
    assert q.skipped == 2
    q.act(950_000, 1_000_000)
    q.add(900_000, {"breach": 0.0}, {})
    q.add(1_300_000, {"breach": 0.0}, {})
    assert [y for _, _, y in q.resolve(1_250_000, positive=False)] == []
    assert q.skipped == 3 and q.acted == []  # nothing left to label ends before 1,300 s
    assert [y for _, _, y in q.resolve(1_700_000, positive=False)] == [False]


def test_acted_intervals_are_kept_while_they_can_matter_and_open_ones_until_closed() -> None:
    q = PendingLabels(horizon_ms=300_000)
    q.act(100, 200)
    q.act(500, None)  # a lease still holding
    q.act(100, 200)  # reported again: no change
    assert q.acted == [(100, 200), (500, None)]
    q.add(450, {}, {})
    q.act(1_000, 1_100)  # pruning: no window still to label ends before 450
    assert q.acted == [(500, None), (1_000, 1_100)]
    q.add(2_000, {}, {})
    q.resolve(10_000_000, positive=False)
    assert q.skipped == 2  # both windows' horizons reach into the open lease
    assert q.acted == [(500, None)]  # open: it covers every later window
    q.act(500, 1_900)  # the lease ended
    assert q.acted == [] and not q.under_action(2_000)
    old = pickle.loads(pickle.dumps(q))
    assert old.acted == [] and old.skipped == q.skipped
    with pytest.raises(ValueError):
        q.act(10, 5)
