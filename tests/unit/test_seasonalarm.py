"""``season_alarm`` (issue #15, s27, breach round nineteen; processors/firstday.py): on a
metric's first day the day so far's ceiling caps an upward rule's breach forecast for the
ALARM's probability only: the estimates keep the forecaster's probability and ETA and carry
the capped one as ``alarm``; the alarm's risk reads it, the allocators' signal (``act``) and
the records do not; the batch core gives the per-message records; no state."""

from __future__ import annotations

from typing import Any

from actuators.signal import signal
from processors.metricoutlook import MetricOutlook
from processors.outlook import observe_window
from processors.pipeline import Pipeline, PipelineConfig
from processors.risk import BreachEstimate
from tests.unit.test_alarmcascade import restores_under
from tests.unit.test_dayprofile import GRID, HOUR, MIN, RULE, features
from tests.unit.test_dayrecent import _day, both_cores


def _estimates(alarm: bool) -> list[list[BreachEstimate]]:
    """Each window's estimates from 12:05 to 13:00 of the first day (a climb back to the
    morning's plateau after a dip at noon)."""
    o = MetricOutlook("seasonal", 60, profile_bins=48)
    out = []
    for t in range(MIN, 13 * HOUR, MIN):
        item = ("cpu.util", features(_day(t), t - 30_000), o, [RULE])
        seen = observe_window([item], t, {}, GRID, (60, 300, 900), False, alarm)
        if t >= 12 * HOUR + 5 * MIN:
            out.append(list(seen.estimates["cpu.util"]))
    return out


def test_the_alarm_reads_the_cap_and_the_estimates_stay_the_forecasters() -> None:
    off, on = _estimates(False), _estimates(True)
    assert [[(e.eta_s, e.probability, e.as_record()) for e in w] for w in on] == [
        [(e.eta_s, e.probability, e.as_record()) for e in w] for w in off]
    assert max(e.probability for w in on for e in w) > 0.5  # the trend runs past FAIL
    assert max(e.alarm_p for w in on for e in w) < 0.01  # capped at 0.75 + 5 %
    assert all(e.alarm is None for w in off for e in w)


def _afternoon(config: PipelineConfig) -> list[dict[str, Any]]:
    """A web's first day from 07:00 to 13:00: the morning's plateau, a dip at noon, the climb
    back to it."""
    p, risk = Pipeline(config), []
    for t in range(7 * HOUR, 13 * HOUR, 10_000):
        risk += p.ingest({"component": "web-1", "host": "h", "ts": t, "tags": {},
                          "metrics": {"cpu.util": _day(t), "mem.util": 0.3}}).risk
    return risk


def test_the_alarm_reads_the_cap_and_the_allocators_do_not() -> None:
    plain = _afternoon(PipelineConfig(season_alarm=False))
    capped = _afternoon(PipelineConfig(season_alarm=True))
    assert len(plain) == len(capped) > 30
    assert [signal(r) for r in capped] == [signal(r) for r in plain]
    keys = ("breach", "forecasts", "anomaly", "model")
    assert [[r[k] for k in keys] for r in capped] == [[r[k] for k in keys] for r in plain]
    assert any(c["risk"] < r["risk"] for c, r in zip(capped, plain, strict=True))
    assert all(c["risk"] <= r["risk"] for c, r in zip(capped, plain, strict=True))


def test_the_batch_core_gives_the_per_message_records_with_it_on() -> None:
    got_one, got_many = both_cores(PipelineConfig(season_alarm=True), 8_000)
    assert len(got_one) > 300 and got_many == got_one


def test_no_state_an_old_checkpoint_restores() -> None:
    restores_under(PipelineConfig(season_alarm=False), PipelineConfig(season_alarm=True))
