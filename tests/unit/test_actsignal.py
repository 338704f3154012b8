"""The allocators' signal, a RiskScore's ``act`` (issue #15, s20): the risk before the alarm's
learnt discounts and the anomaly before the hold, so no allocator moves with them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from actuators.signal import signal
from processors.config import PipelineConfig
from processors.pipeline import Pipeline

DISCOUNTS = {"forecast_trust": 2.0, "warn_trust": 2.0, "hover": 2}
# every discount, the alarm's own learner, its cascade gate and the first day's cap off (the
# default before s20)
OFF: dict[str, Any] = {"forecast_trust": 0.0, "warn_trust": 0.0, "hover": 0,
                       "alarm_learner": False, "alarm_cascade": False, "season_alarm": False}


def _plateau(p: Pipeline, i0: int, i1: int) -> list[dict[str, Any]]:
    """A ramp to a WARN plateau under FAIL, twice: WARN spells and forecasts that lapse."""
    risk: list[dict[str, Any]] = []
    for i in range(i0, i1):
        j = i % 400
        v = 0.2 + 0.003 * j if j < 200 else 0.8
        risk += p.ingest({"component": "web-1", "host": "h", "ts": i * 10_000, "tags": {},
                          "metrics": {"cpu.util": v, "mem.util": 0.3 + 0.001 * (i % 50)}}).risk
    return risk


def test_act_is_the_risk_without_the_discounts_window_for_window() -> None:
    base = PipelineConfig(**OFF)
    plain = _plateau(Pipeline(base), 0, 800)
    weighed = _plateau(Pipeline(replace(base, **DISCOUNTS)), 0, 800)  # type: ignore[arg-type]
    assert len(plain) == len(weighed) > 100
    assert [signal(r) for r in weighed] == [signal(r) for r in plain]
    lowered = [r for r in weighed if r["act"] is not None and r["act"]["risk"] > r["risk"]]
    assert lowered  # the records discounted the alarm somewhere, and act kept the risk
    assert all(r["risk"] <= r["act"]["risk"] for r in weighed if r["act"] is not None)
    assert all(r["act"] is None or r["act"]["risk"] != r["risk"]
               or r["act"]["anomaly"] != r["anomaly"] for r in weighed)


def test_act_is_null_where_it_equals_the_alarm_and_the_hold_never_moves_it() -> None:
    held = _plateau(Pipeline(PipelineConfig(anomaly_hold=True, **OFF)), 0, 800)
    unheld = _plateau(Pipeline(PipelineConfig(anomaly_hold=False, **OFF)), 0, 800)
    assert [r["risk"] for r in held] == [r["risk"] for r in unheld]
    assert [signal(r) for r in held] == [(r["risk"], r["anomaly"]) for r in unheld]
    assert all(r["act"] is None for r in unheld)  # no hold, no discount: act is null
    for r in held:
        assert r["act"] is None or (r["act"]["risk"] == r["risk"]
                                    and r["act"]["anomaly"] != r["anomaly"])


def test_a_restored_component_goes_on_with_its_act() -> None:
    config = replace(PipelineConfig(**OFF), **DISCOUNTS)  # type: ignore[arg-type]
    p, whole = Pipeline(config), Pipeline(config)
    _plateau(whole, 0, 500)
    _plateau(p, 0, 500)
    twin = Pipeline(config)
    twin.restore("web-1", p.snapshot("web-1"))
    assert twin._states["web-1"].last_act == p._states["web-1"].last_act
    assert _plateau(twin, 500, 800) == _plateau(whole, 500, 800)


def test_a_score_without_act_reads_as_its_risk_and_anomaly() -> None:
    assert signal({"risk": 0.4, "anomaly": 0.9}) == (0.4, 0.9)
    assert signal({"risk": 0.4, "anomaly": 0.9, "act": None}) == (0.4, 0.9)
    assert signal({"risk": 0.1, "anomaly": 0.2, "act": {"risk": 0.5, "anomaly": 0.95}}) == (
        0.5, 0.95)
    assert signal({"component": "x"}) == (0.0, 0.0)
