"""The joint (multivariate) anomaly model: joint deviations score, lone noise does not."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pytest

from processors.multivariate import JointDeviation
from processors.pipeline import Pipeline, PipelineConfig


def _stream(rng: np.random.Generator, n: int, d: int = 10) -> np.ndarray:
    return 0.5 + 0.02 * rng.standard_normal((n, d))


def test_a_joint_shift_of_two_metrics_scores_high_and_noise_stays_low() -> None:
    rng = np.random.default_rng(1)
    x = _stream(rng, 3000)
    x[2500:2520, 3] += 0.15  # two metrics off together, each by ~7 typical deviations
    x[2500:2520, 7] -= 0.15
    det = JointDeviation(alpha=0.001, k=2, smooth=0.3, warm=100)
    s = np.array([det.step_array(v) for v in x[:2510]])
    assert det.top in {"3", "7"}  # the metric furthest out, named
    s = np.append(s, [det.step_array(v) for v in x[2510:]])
    assert s[2505:2520].min() > 0.7
    assert np.quantile(s[500:2500], 0.99) < 0.5


def test_one_metric_alone_counts_less_than_two_together() -> None:
    rng = np.random.default_rng(2)
    base = _stream(rng, 2000)
    one, two = base.copy(), base.copy()
    one[1500:1510, 1] += 0.1
    two[1500:1510, 1] += 0.1
    two[1500:1510, 2] += 0.1
    peak = []
    for x in (one, two):
        det = JointDeviation(alpha=0.001, k=2, smooth=0.3)
        peak.append(max(det.step_array(v) for v in x[:1510]))
    assert peak[1] > peak[0]


def test_dict_and_array_paths_agree_and_state_round_trips() -> None:
    rng = np.random.default_rng(3)
    x = _stream(rng, 400, 5)
    a, b = JointDeviation(warm=10), JointDeviation(warm=10)
    sa = [a.step_array(v) for v in x[:200]]
    sb = [b.step_values({str(j): float(v[j]) for j in range(5)}) for v in x[:200]]
    assert sa == sb
    c = pickle.loads(pickle.dumps(a))
    assert [a.step_array(v) for v in x[200:]] == [c.step_array(v) for v in x[200:]]


def test_cold_nan_and_new_metrics_are_handled() -> None:
    det = JointDeviation(warm=5)
    assert det.step_values({}) == 0.0
    assert det.step_values({"a": float("nan")}) == 0.0
    for i in range(20):
        s = det.step_values({"a": 1.0 + 0.01 * (i % 3), "b": float(i % 2)})
        assert 0.0 <= s <= 1.0
    s = det.step_values({"a": 1.0, "b": 0.0, "c": 5.0})  # a metric appears later
    assert 0.0 <= s <= 1.0 and det.metrics == ["a", "b", "c"]
    with pytest.raises(ValueError):
        JointDeviation(alpha=0.0)


def test_pipeline_runs_the_joint_model_and_its_state_is_small() -> None:
    cfg = replace(PipelineConfig(window_s=60, lateness_s=0), anomaly_model="joint")
    p = Pipeline(cfg)
    rng = np.random.default_rng(4)
    anomalies = []
    for i in range(400):
        metrics = {f"m{j}": float(0.5 + 0.02 * rng.standard_normal()) for j in range(38)}
        if i >= 380:
            metrics["m4"] += 0.3
            metrics["m9"] += 0.3
        out = p.ingest({"component": "h", "host": "h", "ts": i * 60_000,
                        "metrics": metrics, "tags": {}})
        anomalies.extend(r["anomaly"] for r in out.risk)
    assert max(anomalies[-15:]) > 0.5 > max(anomalies[150:370])
    det = p._states["h"].detector
    assert isinstance(det, JointDeviation)
    assert len(pickle.dumps(det)) < 50_000


def _incident(rng: np.random.Generator) -> np.ndarray:
    x = _stream(rng, 4000, 6)
    x[3000:3600, 2] += 0.1  # one metric off by ~5 typical deviations for 600 windows
    return x


def test_a_long_incident_is_not_learnt_while_it_lasts() -> None:
    rng = np.random.default_rng(5)
    x = _incident(rng)
    scores = {}
    for freeze in (0.0, 1.0):
        det = JointDeviation(alpha=0.01, freeze=freeze)
        scores[freeze] = np.array([det.step_array(v) for v in x])
    late = slice(3300, 3600)  # the incident's second half
    assert scores[1.0][late].min() > 0.5 > scores[0.0][late].min()
    calm = slice(1000, 3000)  # before it, freezing changes nothing that matters
    assert np.quantile(scores[1.0][calm], 0.99) < 0.5


def test_freezing_stops_after_freeze_max_and_survives_a_restore() -> None:
    rng = np.random.default_rng(6)
    x = _stream(rng, 3000, 4)
    x[2000:, 0] += 0.3  # a lasting change of level
    det = JointDeviation(alpha=0.01, freeze=1.0, freeze_max=200)
    s = np.array([det.step_array(v) for v in x[:2100]])
    assert det.frozen == 100 and s[2050:2100].min() > 0.5
    blob_det = pickle.loads(pickle.dumps(det))
    assert blob_det.frozen == 100
    s = np.append(s, [det.step_array(v) for v in x[2100:]])
    assert det.frozen == 0 and (s[2201:2400] < s[2199]).all()  # learning from window 2200
    assert s[-300:].max() < 0.3  # the new level has become normal
    with pytest.raises(ValueError):
        JointDeviation(freeze=float("nan"))


def _bursty(rng: np.random.Generator, n: int = 4000) -> np.ndarray:
    x = _stream(rng, n, 6)
    x[:, 0] = 0.0
    x[::50, 0] = 1.0  # a counter that bursts every 50 windows in normal running
    x[3000:3100, 3] += 0.1  # the incident: a quiet metric off by ~5 typical deviations
    return x


def test_a_metric_that_bursts_in_normal_running_is_scaled_by_its_own_extremes() -> None:
    x = _bursty(np.random.default_rng(7))
    calm, incident = slice(1500, 3000), slice(3005, 3100)
    plain = JointDeviation(alpha=0.01)
    s0 = np.array([plain.step_array(v) for v in x])
    det = JointDeviation(alpha=0.01, calibrate=1000)
    s1 = np.array([det.step_array(v) for v in x[:500]])
    assert det.weight is None and det.tops.shape == (6, 9)  # calibrating: 1 % of 900 windows
    again = pickle.loads(pickle.dumps(det))  # a restore mid-calibration carries on the same
    s1 = np.append(s1, [det.step_array(v) for v in x[500:]])
    s2 = np.append(s1[:500], [again.step_array(v) for v in x[500:]])
    assert (s1 == s2).all()
    assert det.weight is not None and det.weight[0] < 0.1 and det.weight[1:].min() > 0.95
    assert det.tops.size == 0  # the calibration's buffer is gone once the weights are set
    # the bursts no longer lift the calm score near an alarm; the incident still stands out
    assert np.quantile(s0[calm], 0.99) > 0.5 > s1[calm].max()
    assert s1[incident].min() > 0.9
    with pytest.raises(ValueError):
        JointDeviation(calibrate=-1)
