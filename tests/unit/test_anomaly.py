"""The anomaly detector: River conventions, small state, sensible scores."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from processors.anomaly import AnomalyDetector, MinMaxScaler, anomaly_features
from processors.features import window_features
from processors.health import default_rules

METRICS = [r.metric for r in default_rules()]  # the eleven standard metrics


def windows(n: int, seed: int = 0) -> list[dict[str, float]]:
    """Feature vectors of ``n`` normal one-minute windows (eleven metrics, 10 s samples)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        stamps = range(i * 60_000, (i + 1) * 60_000, 10_000)
        window = {
            m: {t: float(0.4 + 0.03 * rng.standard_normal()) for t in stamps} for m in METRICS
        }
        out.append(anomaly_features(window_features(window, i * 60_000)))
    return out


Trained = tuple[AnomalyDetector, list[dict[str, float]]]


@pytest.fixture(scope="module")
def trained() -> Trained:
    det = AnomalyDetector(seed=7)
    xs = windows(500)
    for x in xs:
        det.score_one(x)
        assert det.learn_one(x) is None  # type: ignore[func-returns-value]
    return det, xs


def test_state_for_one_component_is_small_after_500_windows(trained: Trained) -> None:
    det, xs = trained
    assert len(xs[0]) == 22  # 11 metrics x (mean, volatility)
    size = len(pickle.dumps(det, protocol=pickle.HIGHEST_PROTOCOL))
    assert size < 50_000, size


def test_score_one_changes_nothing(trained: Trained) -> None:
    det, xs = trained
    before = pickle.dumps(det)
    odd = dict(xs[3], **{"cpu.util:mean": 50.0, "never.seen:mean": 1.0})
    scores = [det.score_one(x) for x in (xs[0], odd, {})]
    assert pickle.dumps(det) == before
    assert [det.score_one(x) for x in (xs[0], odd, {})] == scores


def test_pickle_round_trip_continues_identically(trained: Trained) -> None:
    det, _ = trained
    twin = pickle.loads(pickle.dumps(det))
    more = windows(60, seed=1)
    for x in more:
        assert twin.score_one(x) == det.score_one(x)
        det.learn_one(x)
        twin.learn_one(x)
    assert pickle.dumps(twin) == pickle.dumps(det)


def test_a_seed_makes_it_deterministic() -> None:
    xs = windows(80)
    runs = []
    for _ in range(2):
        det = AnomalyDetector(window_size=20, seed=3)
        scores = []
        for x in xs:
            scores.append(det.score_one(x))
            det.learn_one(x)
        runs.append(scores)
    assert runs[0] == runs[1]


def test_cold_until_a_reference_window_and_warmup_then_scores_in_0_1() -> None:
    det = AnomalyDetector(window_size=20, warmup=5, seed=1)
    xs = windows(40)
    warm_at = None
    for i, x in enumerate(xs):
        s = det.score_one(x)
        assert 0.0 <= s <= 1.0
        if not det.warm:
            assert s == 0.0
        elif warm_at is None:
            warm_at = i
        det.learn_one(x)
    assert warm_at == 25  # 20 windows fill the first reference window, 5 more of statistics


def test_an_odd_window_scores_far_above_normal_ones(trained: Trained) -> None:
    det, _ = trained
    normal = [det.score_one(x) for x in windows(100, seed=2)]
    odd = dict(windows(1, seed=3)[0])
    for m in ("cpu.util", "mem.used_pct", "disk.io_util", "net.util", "errors.rate"):
        odd[f"{m}:mean"] = 0.95
        odd[f"{m}:volatility"] = 0.3
    assert np.median(normal) < 0.1
    assert det.score_one(odd) > 0.8
    assert det.score_one(odd) > np.percentile(normal, 99)


def test_scaler_maps_the_seen_range_inside_0_1_clips_and_floors_the_spread() -> None:
    sc = MinMaxScaler(floor_abs=1e-6, floor_rel=0.05, margin=0.25)
    sc.learn_one({"a": 100.0, "b": 0.0})
    sc.learn_one({"a": 100.5, "b": 1.0})
    got = sc.transform_one({"a": 100.25, "b": 1.0, "c": 1.0, "d": float("nan")})
    # a's spread of 0.5 is below the floor of 5 % of 100.5: centred in a 5.025-wide range
    assert got["a"] == pytest.approx(0.5)
    assert got["b"] == 0.75 and got["c"] == 0.5 and got["d"] == 0.5
    assert sc.transform_one({"b": 0.0})["b"] == 0.25
    assert sc.transform_one({"b": 3.0})["b"] == 1.0 and sc.transform_one({"b": -9.0})["b"] == 0.0
