"""``season_recent`` (issue #15, s27; processors/dayrecent.py): on a metric's first day, the
highest window mean of the day so far caps a breach forecast from under it; a rise above
anything seen today, and every window from the second day on, are as without it; the batch
core gives the per-message records with it on; no state (an old checkpoint restores)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import pytest

from processors.batch.pipeline import BatchPipeline
from processors.dayprofile import DAY_MS, DayProfile
from processors.dayrecent import ceiling, recent_ceiling
from processors.metricoutlook import MetricOutlook
from processors.outlook import observe_window
from processors.pipeline import Output, Pipeline, PipelineConfig
from streams.sim.simulator import Fleet, scenario
from tests.unit.test_alarmcascade import restores_under
from tests.unit.test_dayprofile import GRID, HOUR, MIN, RULE, features


def _day(t_ms: int) -> float:
    """0.2 overnight; 0.75 from 08:00 to 12:00; 0.4 at 12:00, back up to 0.75 by 12:15."""
    tod = (t_ms % DAY_MS) / HOUR
    if tod < 8.0:
        return 0.2
    if tod < 12.0:
        return 0.75
    return 0.4 + 0.35 * min(1.0, (tod - 12.0) * 4.0)


def test_recent_ceiling_is_the_day_so_far_where_the_profile_is_blind() -> None:
    p = DayProfile(bins=48)
    for t in range(0, 13 * HOUR, MIN):
        p.learn_one(t, _day(t))
    assert recent_ceiling(p, 13 * HOUR, 0.7, 900) == pytest.approx(0.75 * 1.05)
    assert recent_ceiling(p, 13 * HOUR, 0.9, 900) is None  # above anything seen today
    assert ceiling(p, 13 * HOUR, 0.7, 900, False) is None  # the option off: blind
    assert recent_ceiling(DayProfile(bins=48), HOUR, 0.1, 900) is None  # nothing seen yet
    for t in range(13 * HOUR, DAY_MS + 13 * HOUR, MIN):
        p.learn_one(t, _day(t))
    assert recent_ceiling(p, DAY_MS + 13 * HOUR, 0.8, 900) is None  # day two: not blind
    assert ceiling(p, DAY_MS + 13 * HOUR, 0.8, 900, True) == p.ceiling(
        DAY_MS + 13 * HOUR, 0.8, 900)


def _estimates(recent: bool, until_ms: int) -> list[float]:
    """The largest breach probability per window from 12:05 of the first day to ``until_ms``."""
    o = MetricOutlook("seasonal", 60, profile_bins=48)
    out = []
    for t in range(MIN, until_ms, MIN):
        item = ("cpu.util", features(_day(t), t - 30_000), o, [RULE])
        seen = observe_window([item], t, {}, GRID, (60, 300, 900), recent)
        if t >= 12 * HOUR + 5 * MIN:
            out.append(max((e.probability for e in seen.estimates["cpu.util"]), default=0.0))
    return out


def test_a_climb_back_to_the_mornings_level_is_not_a_breach_the_first_day() -> None:
    without, with_recent = _estimates(False, 13 * HOUR), _estimates(True, 13 * HOUR)
    assert max(without) > 0.5  # the trend line runs past FAIL (0.95)
    assert max(with_recent) < 0.01  # capped at 0.75 + 5 %


def _records(out: Output) -> list[str]:
    return [repr(h) for h in out.health] + [repr(r) for r in out.risk]


def both_cores(config: PipelineConfig, limit: int) -> tuple[list[str], list[str]]:
    """``daily_peaks``' first ``limit`` samples (seed 42) through the per-message pipeline
    and the batch core, polls of 400: the records of each (also test_seasonalarm's)."""
    steps: Iterable[list[dict[str, Any]]] = Fleet(scenario("daily_peaks", seed=42)).run()
    samples = [s for step in steps for s in step][:limit]
    one, many = Pipeline(config), BatchPipeline(config)
    got_one: list[str] = []
    got_many: list[str] = []
    for i in range(0, len(samples), 400):
        out = Output()
        for s in samples[i:i + 400]:
            out.extend(one.ingest(s))
        got_one += _records(out)
        got_many += _records(many.ingest_batch(samples[i:i + 400]))
    return got_one, got_many


def test_the_batch_core_gives_the_per_message_records_with_it_on() -> None:
    got_one, got_many = both_cores(PipelineConfig(season_recent=True), 12_000)
    assert len(got_one) > 500 and got_many == got_one


def test_no_state_an_old_checkpoint_restores() -> None:
    restores_under(PipelineConfig(), dataclasses.replace(PipelineConfig(), season_recent=True))
