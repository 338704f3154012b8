"""Univariate novelty and seasons: River conventions, small state, sensible scores."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from processors.season import SeasonalHistory, detect_period
from processors.univariate import (
    ContextNovelty,
    NoveltyDetector,
    Suppressor,
    TailBuffer,
    run_novelty,
)


def daily(n: int, period: int = 48, seed: int = 0) -> list[float]:
    """A square-ish daily pattern with a little noise."""
    rng = np.random.default_rng(seed)
    return [
        float(10.0 + (30.0 if (i % period) > period // 2 else 0.0) + 0.3 * rng.standard_normal())
        for i in range(n)
    ]


def test_a_spike_after_warm_up_scores_one_and_noise_stays_low() -> None:
    values = daily(1200)
    values[1000] = 500.0
    scores = run_novelty(values)
    assert scores[1000] == 1.0
    assert max(scores[:250]) == 0.0  # cold while the range is learnt
    assert sorted(scores[300:1000])[-5] < 0.75  # at most a handful of alarms in normal data


def test_a_missing_daily_peak_is_seen_by_the_seasonal_channel() -> None:
    values = daily(1500)
    for i in range(1300, 1348):  # one day without its peak: every level seen before
        values[i] = 10.0 + 0.3 * math.sin(i)
    model = ContextNovelty()
    scores = [model.step(x) for x in values]
    assert model.period is not None and model.period % 48 == 0
    assert max(scores[1300:1348]) >= 0.75


def test_alarms_are_suppressed_for_rest_values_then_recover() -> None:
    sup = Suppressor(rest=10, alarm=0.75)
    out = [sup.step(r) for r in [1.0, 1.0, 1.0] + [0.0] * 7 + [1.0]]
    assert out[0] == 1.0 and out[1] == pytest.approx(0.1) and out[2] == pytest.approx(0.2)
    assert out[-1] == 1.0


def test_score_one_changes_nothing_and_step_equals_score_then_learn() -> None:
    values = daily(600, seed=1)
    a, b = NoveltyDetector(), NoveltyDetector()
    for x in values:
        before = pickle.dumps(a)
        s = a.score_one(x)
        assert pickle.dumps(a) == before
        a.learn_one(x)
        assert b.step(x) == s
    assert pickle.dumps(a) == pickle.dumps(b)


def test_pickle_round_trip_continues_identically_and_state_is_small() -> None:
    values = daily(3000, seed=2)
    det = NoveltyDetector()
    for x in values[:2500]:
        det.learn_one(x)
    blob = pickle.dumps(det, protocol=5)
    assert len(blob) < 20_000, len(blob)  # 2048 float32 of history, a 1 KB bitset, 256 tails
    twin = pickle.loads(blob)
    assert [twin.step(x) for x in values[2500:]] == [det.step(x) for x in values[2500:]]


def test_odd_values_never_raise() -> None:
    det = NoveltyDetector(warm=5)
    for x in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, math.nan, math.inf, -1e308, 1e308, 0.0, 1e-300]:
        s = det.step(x)
        assert 0.0 <= s <= 1.0


def test_tail_buffer_extrapolates_beyond_what_it_holds() -> None:
    t = TailBuffer(n=200)
    for i in range(200):
        t.add(float(i % 10))
    assert t.surprise(5.0) < t.surprise(9.0) < t.surprise(12.0) < t.surprise(20.0)
    assert t.surprise(9.1) > -math.log10(0.5 / 201)  # beyond the largest held: the tail
    assert pickle.loads(pickle.dumps(t)).surprise(12.0) == t.surprise(12.0)


def test_periods_are_found_and_trends_are_not_taken_for_seasons() -> None:
    i = np.arange(2000)
    assert detect_period(np.sin(2 * np.pi * i / 96)) == 96
    assert detect_period(0.01 * i) is None  # a trend's slow decay has no peak
    assert detect_period(np.sin(2 * np.pi * i / 1440)) is None  # longer than half the history
    h = SeasonalHistory(capacity=512, block=4, recheck=32)
    for v in np.sin(2 * np.pi * i / 120):
        h.push(float(v))
    assert h.period == 30  # in blocks of four


def test_the_likelihood_is_a_tail_probability_on_the_scores_own_scale() -> None:
    from processors.likelihood import AnomalyLikelihood

    for level in (0.0, 0.3):  # a quiet raw score and a busy one: one threshold for both
        lik = AnomalyLikelihood(short=5, rate=0.01, learn=100)
        rng = np.random.default_rng(7)
        noise = np.clip(level + 0.05 * rng.standard_normal(600), 0, 1)
        out = [lik.step(float(r)) for r in noise]
        assert out[:100] == [0.0] * 100  # learning
        assert 0.0 <= min(out) and max(out[150:]) < 0.4  # nothing rarer than a 1e-4 tail
        burst = [lik.step(1.0) for _ in range(5)]
        assert max(burst) >= 0.5  # a 1e-5 tail or rarer
        assert sum(b >= 0.5 for b in burst) == 1  # a run of certainties alarms once (HTM)


def test_the_likelihood_detector_runs_on_a_series() -> None:
    from processors.likelihood import LikelihoodDetector

    d = LikelihoodDetector(rest=0, warm=50, likelihood={"learn": 50})
    scores = [d.step(50.0 if i == 400 else float(i % 5)) for i in range(500)]
    assert max(scores[:100]) == 0.0
    assert max(scores[400:410]) > 0.5 > max(scores[200:400])


def test_a_coarse_resolution_halves_new_fine_sequences_inside_known_coarse_ones() -> None:
    """Issue #15, s16: ``coarse`` adds the contexts of ``level // coarse``; a new order of
    known fine levels within one known coarse context scores at most 0.5, a new far level 1."""
    fine, two = ContextNovelty(warm=40, seasonal=False), ContextNovelty(
        warm=40, seasonal=False, coarse=4)
    for i in range(400):  # 0..7 over and over: fine levels 1 2 2 3 4 5 5 6, coarse 0 0 0 0 1 1 1 1
        fine.step(float(i % 8)), two.step(float(i % 8))
    new_order = [0.0, 0.0, 1.0, 1.0]  # 0-0 and 1-1: fine contexts never seen, coarse ones seen
    assert max(fine.step(x) for x in new_order) >= 0.75
    assert max(two.step(x) for x in new_order) <= 0.5
    assert two.step(100.0) == 1.0  # a level of its own at both resolutions
    assert ContextNovelty(coarse=0)._slots(3) == ContextNovelty()._slots(3)
    with pytest.raises(ValueError):
        ContextNovelty(coarse=-1)


def test_the_pipeline_passes_its_coarse_setting_to_every_metric() -> None:
    from processors.anomaly import detector_for
    from processors.config import PipelineConfig

    det = detector_for(PipelineConfig(anomaly_coarse=4), "web-1")
    assert det.coarse == 4 and det._model("cpu", 1).coarse == 4  # type: ignore[union-attr]
    assert PipelineConfig().state_key()["anomaly"] == PipelineConfig(
        anomaly_coarse=0).state_key()["anomaly"] != PipelineConfig(
        anomaly_coarse=4).state_key()["anomaly"]
    assert PipelineConfig().state_key() == PipelineConfig(anomaly_hold=True).state_key()


def test_the_risk_reads_the_fine_resolution_score_beside_the_coarse_one() -> None:
    """Issue #15, s18: with ``coarse`` the component's score (its anomaly record, what NAB
    judges) is over both resolutions; the risk's anomaly evidence is the fine resolution's
    alone, suppressed on its own: the score ``coarse`` 0 gives, exactly."""
    from processors.anomaly import ComponentNovelty, risk_anomaly
    from processors.features import MetricFeatures

    def window(x: float, y: float) -> dict[str, MetricFeatures]:
        return {m: MetricFeatures(v, v, v, v, v, 0.0, 0.0, 0.0, 0.0, 1, 0)
                for m, v in (("cpu", x), ("mem", y))}

    old, new = ComponentNovelty(warm=40), ComponentNovelty(warm=40, coarse=4)
    one = ContextNovelty(warm=40, seasonal=False, coarse=4)
    ref = ContextNovelty(warm=40, seasonal=False)
    for i in range(600):
        x = float(i % 8) if i % 97 else 30.0
        w = window(x, float((i * 3) % 7))
        a, b = old.step(w), new.step(w)
        assert risk_anomaly(old, a) == a and risk_anomaly(new, b) == new.fine == a
        both, fine = one.steps(x)
        assert fine == ref.step(x) and both <= max(fine, 1.0)
    assert new.fine_suppressor is not None and old.fine_suppressor is None
    new.fine_suppressor = None  # a checkpoint written before s18: a fresh suppressor
    new.step(window(1.0, 1.0))
    assert new.fine_suppressor is not None and risk_anomaly(object(), 0.3) == 0.3


def test_a_held_rest_restarts_at_every_raw_onset_the_scaled_ones_too() -> None:
    """Issue #15, s19: without ``hold`` an onset scaled under ``alarm`` does not restart the
    rest, so a later onset scores high again; with it, the rest runs from the latest raw
    onset."""
    raws = [1.0] + [0.0] * 4 + [1.0] + [0.0] * 6 + [1.0]  # onsets at 0, 5 (scaled) and 12
    s, h = Suppressor(rest=10), Suppressor(rest=10, hold=True)
    plain, held = [s.step(r) for r in raws], [h.step(r) for r in raws]
    assert plain[5] == held[5] == pytest.approx(0.5)  # 5 of 10 values into the rest
    assert plain[12] == 1.0 and held[12] == pytest.approx(0.7)  # 7 values after the one at 5
    assert Suppressor().hold is False


def test_with_hold_the_risk_reads_the_score_suppressed_without_it() -> None:
    """Issue #15, s19: ``hold`` changes the component's anomaly record only; the risk's
    evidence (``fine``) is the score without it, exactly."""
    from processors.anomaly import ComponentNovelty, detector_for, risk_anomaly
    from processors.config import PipelineConfig
    from processors.features import MetricFeatures

    def window(x: float) -> dict[str, MetricFeatures]:
        return {"cpu": MetricFeatures(x, x, x, x, x, 0.0, 0.0, 0.0, 0.0, 1, 0)}

    old, new = ComponentNovelty(warm=40), ComponentNovelty(warm=40, hold=True)
    differ = 0
    for i in range(900):
        x = float(i % 8) if i % 53 else 30.0 + i % 7
        a, b = old.step(window(x)), new.step(window(x))
        assert risk_anomaly(new, b) == new.fine == a and b <= a
        differ += a != b
    assert differ > 0
    det = detector_for(PipelineConfig(anomaly_hold=True), "web-1")
    assert det.hold and det.suppressor.hold  # type: ignore[union-attr]
    assert PipelineConfig().state_key() != PipelineConfig(anomaly_hold=False).state_key()


def test_a_held_component_snapshots_and_continues_byte_for_byte() -> None:
    """Issue #15, s19: ``hold`` and the second suppressor are in the checkpoint."""
    from processors.pipeline import Pipeline, PipelineConfig

    config = PipelineConfig(anomaly_warm=50, anomaly_hold=True)
    batch = [{"component": "db-1", "host": "h-1", "ts": i * 10_000, "tags": {}, "metrics": {
        "cpu.util": float(i % 7) + (9.0 if i % 61 == 0 else 0.0), "mem.used_pct": 50.0}}
        for i in range(1500)]

    def run(p: Pipeline, part: list[dict[str, object]]) -> list[str]:
        return [repr((o.risk, o.health, o.rejected)) for o in map(p.ingest, part)]

    p = Pipeline(config)
    run(p, batch[:1200])
    blob = p.snapshot("db-1")
    twin = Pipeline(config)
    twin.restore("db-1", blob)
    assert twin.snapshot("db-1") == blob
    assert run(twin, batch[1200:]) == run(p, batch[1200:])
    det = twin._states["db-1"].detector
    assert det.hold and det.fine_suppressor is not None  # type: ignore[union-attr]
