"""The time-of-day profile (processors/dayprofile.py): its envelope, what it caps in a window's
outlook (a morning ramp seen on earlier days is not extrapolated into a breach; one above
anything seen at that time still is), and its checkpoint (an older state restores it empty)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from processors import dayprofile, stateformat
from processors.dayprofile import DAY_MS, DayProfile
from processors.features import MetricFeatures
from processors.health import Rule
from processors.metricoutlook import MetricOutlook
from processors.outlook import observe_window
from processors.stateschema import TypeSchema, schema

HOUR, MIN = 3_600_000, 60_000
GRID = list(range(0, 901, 60))
RULE = Rule("cpu.util", warn=0.8, fail=0.95, hysteresis=0.05)


def features(mean: float, ts_ms: int) -> MetricFeatures:
    return MetricFeatures(mean, mean + 0.01, mean - 0.01, mean, mean, 0.0, 0.0, 0.01, 0.0,
                          count=6, ts_mean_ms=ts_ms)


def morning(t_ms: int, peak: float, start_h: float = 8.0) -> float:
    """0.2 overnight, a 15-minute ramp from ``start_h`` to ``peak``, held until 18:00."""
    tod = (t_ms % DAY_MS) / HOUR
    if tod < start_h or tod >= 18.0:
        return 0.2
    return 0.2 + (peak - 0.2) * min(1.0, (tod - start_h) * 4.0)


def test_envelope_needs_an_earlier_visit_and_follows_the_highest_day() -> None:
    p = DayProfile(bins=48, decay=0.5)
    for t in range(0, DAY_MS, MIN):
        p.learn_one(t, morning(t, 0.6))
        if t < DAY_MS - 3 * HOUR:  # today's bins ahead were never seen: nothing to say
            assert p.envelope(t, 900) is None
    assert p.envelope(DAY_MS + 7 * HOUR + 50 * MIN, 900) == pytest.approx(0.6)
    assert p.envelope(DAY_MS + 2 * HOUR, 900) == pytest.approx(0.2)
    for t in range(DAY_MS, 2 * DAY_MS, MIN):  # a higher day: up at once; a lower: half way
        p.learn_one(t, morning(t, 0.8))
    for t in range(2 * DAY_MS, 3 * DAY_MS + MIN, MIN):
        p.learn_one(t, morning(t, 0.4))
    assert p.envelope(3 * DAY_MS + 12 * HOUR, 900) == pytest.approx(0.6)
    assert p.envelope(3 * DAY_MS + 12 * HOUR, 86_400) is None  # a whole day: no time of day
    before = (p.hi.copy(), p.cur, p.cur_max)
    p.learn_one(0, 5.0)  # out of order, not finite: ignored
    p.learn_one(4 * DAY_MS, math.nan)
    assert np.array_equal(p.hi, before[0]) and (p.cur, p.cur_max) == before[1:]
    with pytest.raises(ValueError, match="bins must divide"):
        DayProfile(bins=7)


def _ramp_estimates(profile_bins: int, peak_today: float) -> list[list[float]]:
    """Two days of the same morning ramp to 0.7, then a third whose ramp goes to
    ``peak_today``: each window's breach probabilities on day three, 08:00-08:30."""
    o = MetricOutlook("seasonal", 60, profile_bins=profile_bins)
    out = []
    for t in range(MIN, 2 * DAY_MS + 8 * HOUR + 30 * MIN, MIN):
        peak = 0.7 if t < 2 * DAY_MS else peak_today
        item = ("cpu.util", features(morning(t, peak), t - 30_000), o, [RULE])
        seen = observe_window([item], t, {}, GRID, (60, 300, 900))
        if t >= 2 * DAY_MS + 8 * HOUR:
            out.append([e.probability for e in seen.estimates["cpu.util"]])
    return out


def test_a_ramp_seen_on_earlier_days_is_not_extrapolated_into_a_breach() -> None:
    without = _ramp_estimates(0, 0.7)
    assert max(p for ps in without for p in ps) > 0.5  # the trend line runs past 0.95
    with_profile = _ramp_estimates(48, 0.7)
    assert max((p for ps in with_profile for p in ps), default=0.0) < 0.01


def test_a_ramp_above_anything_seen_at_this_time_still_breaches() -> None:
    assert max(p for ps in _ramp_estimates(48, 1.0) for p in ps) > 0.5


def test_a_state_without_a_profile_restores_an_empty_one(monkeypatch) -> None:
    o = MetricOutlook("seasonal", 60)
    for t in range(0, 2 * DAY_MS, 5 * MIN):
        o.learn_one(t, morning(t, 0.7))
    back = stateformat.decode(stateformat.encode(o))
    assert back.profile is not None and np.array_equal(back.profile.hi, o.profile.hi)
    assert stateformat.decode(stateformat.encode(back)) is not None
    table = schema()
    old = table["MetricOutlook"]
    fields = {k: v for k, v in old.fields.items() if k != "profile"}
    monkeypatch.setitem(table, "MetricOutlook", dataclasses.replace(
        old, fields=fields, encode=lambda x: {k: getattr(x, k) for k in fields}))
    blob = stateformat.encode(o)  # as a state written before profiles
    monkeypatch.setitem(table, "MetricOutlook", old)
    restored = stateformat.decode(blob)
    assert isinstance(restored.profile, DayProfile) and np.isnan(restored.profile.hi).all()
    assert isinstance(old, TypeSchema)


def test_a_usual_morning_ramp_is_no_change_point_for_the_drift_test() -> None:
    def drifts_on_day_three(profile_bins: int) -> int:
        o = MetricOutlook("seasonal", 60, profile_bins=profile_bins)
        for t in range(0, 2 * DAY_MS, MIN):
            o.learn_one(t, morning(t, 0.7) + 0.002 * ((t // MIN * 7) % 5))
        before = o.drifts
        for t in range(2 * DAY_MS, 3 * DAY_MS, MIN):
            o.learn_one(t, morning(t, 0.7) + 0.002 * ((t // MIN * 7) % 5))
        return o.drifts - before

    assert drifts_on_day_three(0) >= 1
    assert drifts_on_day_three(48) == 0


def _first_morning(peak: float) -> list[float]:
    """Day one, a ramp to ``peak`` from 08:00: each window's largest breach probability."""
    o = MetricOutlook("seasonal", 60)
    out = []
    for t in range(MIN, 8 * HOUR + 40 * MIN, MIN):
        item = ("cpu.util", features(morning(t, peak), t - 30_000), o, [RULE])
        seen = observe_window([item], t, {}, GRID, (60, 300, 900))
        if t >= 8 * HOUR:
            out.append(max((e.probability for e in seen.estimates["cpu.util"]), default=0.0))
    return out


def test_a_first_morning_ramp_reads_as_going_on_or_stopping(monkeypatch) -> None:
    """Round seven: where the profile never saw the horizon's bins, a forecast's rise goes on
    with probability BLIND or stops, so a ramp that stops under FAIL reads less sure of a
    crossing than the trend line alone says; one that goes past FAIL still crosses."""
    p = DayProfile()
    assert p.blind(8 * HOUR, 900) and not p.blind(8 * HOUR, 86_400)  # a whole day: no
    for t in range(0, DAY_MS + MIN, MIN):
        p.learn_one(t, 0.2)
    assert not p.blind(DAY_MS + 8 * HOUR, 900)  # seen on the day before
    monkeypatch.setattr(dayprofile, "BLIND", 1.0)  # off: the trend line alone
    alone = _first_morning(0.7)
    monkeypatch.setattr(dayprofile, "BLIND", 0.5)
    mixed = _first_morning(0.7)
    assert max(mixed) < max(alone) and max(alone) > 0.5
    assert sum(mixed) < 0.6 * sum(alone)
    assert max(_first_morning(1.2)) > 0.9  # a ramp far past FAIL still breaches
