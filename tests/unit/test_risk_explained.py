"""Risk for a *new* FAIL: the anomaly of a window in FAIL is explained by that FAIL."""

from processors.calibration import RiskLearner, explained


def _base(fail: float, anomaly: float) -> dict[str, float]:
    return {"breach": 0.1, "warn": 0.0, "fail": fail, "anomaly": anomaly, "growth": 0.0,
            "context": 0.0}


def test_onset_risk_ignores_anomaly_during_a_fail() -> None:
    learner = RiskLearner(target="onset")
    quiet = learner.score_one(_base(1.0, 0.0), {})
    assert learner.score_one(_base(1.0, 0.9), {}) == quiet
    # out of FAIL the anomaly still raises the risk
    assert learner.score_one(_base(0.0, 0.9), {}) > learner.score_one(_base(0.0, 0.0), {})


def test_fail_target_keeps_anomaly() -> None:
    learner = RiskLearner(target="fail")
    assert learner.score_one(_base(1.0, 0.9), {}) > learner.score_one(_base(1.0, 0.0), {})


def test_learning_sees_the_same_evidence_as_scoring() -> None:
    a, b = RiskLearner(target="onset"), RiskLearner(target="onset")
    for _ in range(50):
        a.learn_one(_base(1.0, 0.9), {"cpu.util": 3}, False)
        b.learn_one(_base(1.0, 0.0), {"cpu.util": 3}, False)
    assert a.combiner.weights == b.combiner.weights
    assert a.calibrator.table == b.calibrator.table


def test_explained_leaves_other_evidence() -> None:
    x = {"fail": 1.0, "anomaly": 0.5, "breach": 0.3}
    assert explained(x) == {"fail": 1.0, "anomaly": 0.0, "breach": 0.3}
    assert x["anomaly"] == 0.5  # not changed in place
