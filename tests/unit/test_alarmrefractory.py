"""``alarm_refractory`` (issue #15, s26): ``alarm_cascade``'s gate also holds for a horizon
after a rule FAIL (a metric that failed within it cannot make a new onset: its next crossing
is the same breach), and such a metric is no evidence of a cascade; ``act`` is ungated."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from actuators.signal import signal
from processors import pipeline
from processors.actsignal import cascade_named, gated
from processors.config import PipelineConfig
from processors.pipeline import Pipeline
from tests.unit.test_actsignal import OFF
from tests.unit.test_alarmcascade import restores_under
from tests.unit.test_alarmlearner import _db


def _config(**kw: Any) -> PipelineConfig:
    return replace(PipelineConfig(fleet_min_labels=20, **OFF), **kw)


def test_a_metric_failed_lately_names_no_cascade() -> None:
    assert cascade_named({"cpu.util": 6, "mem.util": 3})
    assert not cascade_named({"cpu.util": 6, "mem.util": 3}, {"cpu.util"})
    assert cascade_named({"cpu.util": 6, "mem.util": 1}, {"cpu.util"})  # mem forecast


def test_the_gate_holds_for_a_horizon_after_the_fail() -> None:
    on = _config(alarm_cascade=True, alarm_refractory=True)
    cascade = _config(alarm_cascade=True, alarm_refractory=False)
    ok, fail = {"fail": 0.0}, {"fail": 1.0}
    back = {"cpu.util": 6, "mem.util": 0}  # cpu back at WARN after its FAIL
    assert gated(0.6, 0.1, None, ok, back, on, {"cpu.util"}) == (0.1, 0.6)
    assert gated(0.6, 0.1, 0.5, ok, back, on, {"cpu.util"}) == (0.1, 0.5)
    assert gated(0.6, 0.1, None, ok, back, on) == (0.6, None)  # no FAIL lately
    assert gated(0.6, 0.1, None, ok, back, cascade, {"cpu.util"}) == (0.6, None)
    assert gated(0.6, 0.1, None, fail, back, cascade, {"cpu.util"}) == (0.6, None)
    assert gated(0.6, 0.1, None, fail, back, on, {"cpu.util"}) == (0.1, 0.6)
    other = {"cpu.util": 3, "mem.util": 7}  # another metric at WARN: a cascade
    assert gated(0.6, 0.1, None, ok, other, on, {"cpu.util"}) == (0.6, None)
    assert gated(0.05, 0.1, None, ok, back, on, {"cpu.util"}) == (0.05, None)  # it may fall
    off = replace(on, alarm_cascade=False)  # an extension of alarm_cascade's gate
    assert gated(0.6, 0.1, None, fail, back, off, {"cpu.util"}) == (0.6, None)
    status = replace(on, risk_target="fail")
    assert gated(0.6, 0.1, None, ok, back, status, {"cpu.util"}) == (0.6, None)


def test_after_a_fail_alone_the_alarm_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wiring: every window's risk made 0.9 before the gate; db-1's cpu FAIL ends at
    sample 1500 and the alarm is set off there: with the option the gate keeps it off for
    the horizon after (90 samples), s25's gate alone lets it start; ``act`` is the same."""
    monkeypatch.setattr(pipeline, "emitted", lambda *_: 0.9)
    runs = []
    for on in (False, True):
        p = Pipeline(_config(alarm_learner=True, alarm_cascade=True, alarm_refractory=on))
        _db(p, 0, 1500)
        p._states["db-1"].last_risk = 0.0  # the alarm off, at the FAIL's end
        runs.append(_db(p, 1500, 1580))
    cascade, refractory = runs
    assert 0.9 in {r["risk"] for r in cascade} and {r["risk"] for r in refractory} == {0.0}
    assert [signal(r) for r in refractory] == [signal(r) for r in cascade]


def test_a_checkpoint_without_the_option_restores_with_it() -> None:
    """No state and no state-key part: a checkpoint made without the option restores under
    it, and goes on as a component that ran with it all along would from the same state."""
    restores_under(PipelineConfig(alarm_refractory=False), PipelineConfig(alarm_refractory=True))
