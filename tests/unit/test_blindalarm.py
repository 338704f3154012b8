"""The first day's mixture as the alarm's only (``dayprofile.BLIND_ALARM``, issue #15, s20):
the breach estimates keep the forecaster's probability and carry the mixture's as ``alarm``;
the alarm's risk reads it, the allocators' signal (``act``) and the records do not."""

from __future__ import annotations

from typing import Any

import pytest

from actuators.signal import signal
from processors import dayprofile
from processors.config import PipelineConfig
from processors.features import MetricFeatures
from processors.health import Rule
from processors.metricoutlook import MetricOutlook
from processors.outlook import observe_window
from processors.pipeline import Pipeline
from processors.risk import BreachEstimate

HOUR, MIN = 3_600_000, 60_000
GRID = list(range(0, 901, 60))
RULE = Rule("cpu.util", warn=0.8, fail=0.95, hysteresis=0.05)


def _ramp_estimates(kind: str) -> list[list[BreachEstimate]]:
    """Day one, a ramp towards FAIL from 08:00 that stops under it: each window's estimates."""
    o = MetricOutlook(kind, 60)
    out = []
    for t in range(MIN, 8 * HOUR + 40 * MIN, MIN):
        tod = t / HOUR
        v = 0.2 if tod < 8.0 else 0.2 + 0.5 * min(1.0, (tod - 8.0) * 4.0)
        f = MetricFeatures(v, v + 0.01, v - 0.01, v, v, 0.0, 0.0, 0.01, 0.0, count=6,
                           ts_mean_ms=t - 30_000)
        seen = observe_window([("cpu.util", f, o, [RULE])], t, {}, GRID, (60, 300, 900))
        out.append(list(seen.estimates["cpu.util"]))
    return out


@pytest.mark.parametrize("kind", ["seasonal", "trend"])
def test_the_estimates_keep_the_forecasters_probability_and_carry_the_mixtures(
        kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _ramp_estimates(kind)  # BLIND 1.0, the default
    monkeypatch.setattr(dayprofile, "BLIND", 0.5)
    mixed = _ramp_estimates(kind)  # round seven: the mixture is the probability
    monkeypatch.setattr(dayprofile, "BLIND_ALARM", True)
    alarm = _ramp_estimates(kind)
    assert [[(e.metric, e.eta_s, e.probability) for e in w] for w in alarm] == [
        [(e.metric, e.eta_s, e.probability) for e in w] for w in alone]
    assert [[e.alarm_p for e in w] for w in alarm] == [[e.probability for e in w] for w in mixed]
    assert any(e.alarm is not None and e.alarm < e.probability for w in alarm for e in w)
    assert all(e.as_record() == a.as_record() for w, v in zip(alarm, alone, strict=True)
               for e, a in zip(w, v, strict=True))


def _morning(p: Pipeline) -> list[dict[str, Any]]:
    """A web's first morning: a ramp towards FAIL that stops under it, twice."""
    risk: list[dict[str, Any]] = []
    for i in range(1_200):
        j = i % 600
        v = 0.2 + 0.002 * j if j < 300 else 0.8
        risk += p.ingest({"component": "web-1", "host": "h", "ts": i * 10_000, "tags": {},
                          "metrics": {"cpu.util": v, "mem.util": 0.3 + 0.001 * (i % 50)}}).risk
    return risk


def test_the_alarm_reads_the_mixture_and_the_allocators_do_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _morning(Pipeline(PipelineConfig()))
    monkeypatch.setattr(dayprofile, "BLIND", 0.5)
    monkeypatch.setattr(dayprofile, "BLIND_ALARM", True)
    blind = _morning(Pipeline(PipelineConfig()))
    assert len(plain) == len(blind) > 100
    assert [signal(r) for r in blind] == [signal(r) for r in plain]
    keys = ("breach", "forecasts", "anomaly", "model")
    assert [[r[k] for k in keys] for r in blind] == [[r[k] for k in keys] for r in plain]
    assert any(r["act"] is not None and r["risk"] < r["act"]["risk"] for r in blind)
    assert all(r["act"] is None or r["risk"] <= r["act"]["risk"] for r in blind)
