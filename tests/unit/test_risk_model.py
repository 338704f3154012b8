"""The one risk model protocol (issue #10): the pipeline scores and teaches any RiskModel the
same way, and the learner's one-pass ``assess`` equals its parts."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from processors.anomaly import detector_for
from processors.calibration import RiskLearner
from processors.features import MetricFeatures
from processors.pipeline import Pipeline, PipelineConfig
from processors.risk import Assessment, RiskModel
from tests.unit.test_pipeline import ramp, run


class Counting:
    """A RiskModel that answers the share of positive labels it has learnt."""

    def __init__(self) -> None:
        self.scored = 0
        self.labels: list[bool] = []

    def score_one(self, base: Mapping[str, float], states: Mapping[str, int]) -> float:
        return self.assess(base, states).risk

    def learn_one(self, base: Mapping[str, float], states: Mapping[str, int], y: bool) -> None:
        assert "breach" in base and "cpu.util" in states
        self.labels.append(y)

    def assess(self, base: Mapping[str, float], states: Mapping[str, int]) -> Assessment:
        self.scored += 1
        risk = 0.123 if not self.labels else sum(self.labels) / len(self.labels)
        return Assessment(risk, {"breach": 1.0}, {})


def test_a_given_risk_model_speaks_for_every_window_and_learns_every_label() -> None:
    model = Counting()
    checked: RiskModel = model
    p = Pipeline(PipelineConfig(), risk_model=checked)
    out = run(p, ramp())
    assert model.scored == len(out.risk) == 45
    assert out.risk[0]["risk"] == pytest.approx(0.123)
    assert {r["model"]["source"] for r in out.risk} == {"component"}
    assert len(model.labels) == p.fleet.labels > 20  # the labels the fleet learnt
    assert any(model.labels) and not all(model.labels)
    last = out.risk[-1]
    spoken = (last["act"] or last)["risk"]  # the model's: after the ramp's FAIL the alarm's
    # gate (alarm_refractory, s26) holds the alarm itself at the window before's
    assert spoken == pytest.approx(sum(model.labels[:-1]) / (len(model.labels) - 1), abs=0.05)
    assert last["contributors"]["cpu.util"] == 1.0  # the model's only term: breach


def test_assess_is_score_one_with_its_explanation() -> None:
    rng = np.random.default_rng(7)
    learner = RiskLearner(lr=0.0)
    for _ in range(200):
        b = float(rng.random())
        learner.learn_one({"breach": b, "warn": 0.0}, {"cpu.util": int(b * 11)}, b > 0.7)
    base = {"breach": 0.6, "warn": 1.0, "fail": 0.0, "anomaly": 0.2, "growth": 1.0,
            "context": 0.0}
    states = {"cpu.util": 10, "mem.used_pct": 1}
    got = learner.assess(base, states)
    x = learner.evidence(base, states)
    assert got.risk == learner.score_one(base, states)
    assert got.risk == learner.calibrated(learner.combiner.score_one(x))
    assert got.terms == learner.combiner.terms(x)
    assert got.drivers == learner.bn.explain(states)
    assert got.drivers["cpu.util"] > 0 > got.drivers["mem.used_pct"]


@pytest.mark.parametrize("model", ["novelty", "hst", "joint"])
def test_every_anomaly_model_steps_on_window_features(model: str) -> None:
    det = detector_for(PipelineConfig(anomaly_model=model), "web-1")
    rng = np.random.default_rng(1)
    scores = []
    for i in range(400):
        v = 50.0 + rng.standard_normal() + (40.0 if i == 390 else 0.0)
        f = MetricFeatures(v, v, v, v, v, 0.0, 0.0, 0.5, 0.0, 6, i * 60_000)
        scores.append(det.step({"cpu.util": f}))
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[390] > max(scores[300:390]) and scores[390] > 0.3
