"""Operators' verdicts on alarms (POST /v1/feedback → forewarn.feedback): the engine moves the
component's alarm point, the worker's models learn the judged window with the verdict."""

from __future__ import annotations

import pytest

from actuators.engine import FEEDBACK_CAP, FEEDBACK_STEP, AllocationEngine
from processors.pipeline import Pipeline, PipelineConfig
from schemas.errors import ContractError
from tests.apiutil import risk

T0 = 1_767_571_200_000


def verdict(component: str, v: str, ts: int = T0) -> dict:
    return {"component": component, "ts": ts, "verdict": v, "operator": "ops", "note": "",
            "received_ms": 0}


def test_false_positives_raise_the_alarm_point_true_positives_lower_it() -> None:
    engine = AllocationEngine()
    threshold = engine.config.risk_threshold
    score = risk("web-01", T0, threshold + FEEDBACK_STEP / 2)
    assert engine.on_feedback(verdict("web-01", "FALSE_POSITIVE")) == FEEDBACK_STEP
    assert engine.on_risk(score, "web-01") == []  # under its raised alarm point now
    other = AllocationEngine()
    assert [c["action"] for c in other.on_risk(score, "web-01")] == ["GRANT"]  # as before
    for _ in range(20):
        engine.on_feedback(verdict("web-01", "FALSE_POSITIVE"))
    assert engine.on_feedback(verdict("web-01", "FALSE_POSITIVE")) == FEEDBACK_CAP
    for _ in range(20):
        engine.on_feedback(verdict("web-01", "TRUE_POSITIVE"))
    assert engine.on_feedback(verdict("web-01", "TRUE_POSITIVE")) == 0.0
    with pytest.raises(ContractError):
        engine.on_feedback(verdict("web-01", "MAYBE"))


def test_a_verdict_labels_the_pending_window_it_judges() -> None:
    p = Pipeline(PipelineConfig())

    def sample(ts: int, used: float) -> dict:
        return {"component": "web-1", "host": "web-1", "ts": ts,
                "metrics": {"disk.used_pct": used}, "tags": {}}

    p.ingest(sample(10_000, 60.0))
    scored = p.ingest(sample(90_000, 61.0)).risk
    assert [r["ts"] for r in scored] == [60_000]
    st = p._states["web-1"]  # noqa: SLF001 - the learner's label count is the observable
    before = st.learner.labels
    assert p.on_feedback("web-1", 60_000, true_positive=False)
    assert st.learner.labels == before + 1
    assert not p.on_feedback("web-1", 60_000, true_positive=False)  # labelled once only
    assert not p.on_feedback("nosuch", 60_000, true_positive=True)
