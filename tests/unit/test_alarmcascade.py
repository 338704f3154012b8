"""``alarm_cascade`` (issue #15, s25): in a rule FAIL that names no cascade (no other metric
below FAIL at WARN or forecast to breach) the alarm can go on or fall, not start or rise;
``act`` keeps the risk ungated, window for window."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from actuators.signal import signal
from processors import pipeline
from processors.actsignal import cascade_named, gated
from processors.config import PipelineConfig
from processors.pipeline import Pipeline
from streams.runtime.checkpoint import CheckpointedPipeline, decode
from streams.sim.examples import fleet_samples
from tests.unit.test_actsignal import OFF
from tests.unit.test_alarmlearner import _db


def _config(**kw: Any) -> PipelineConfig:
    return replace(PipelineConfig(fleet_min_labels=20, **OFF), **kw)


def test_a_cascade_is_another_metric_below_fail_at_warn_or_forecast() -> None:
    assert not cascade_named({"cpu.util": 10, "mem.util": 3, "context": 2})
    assert cascade_named({"cpu.util": 10, "mem.util": 6})  # at WARN
    assert cascade_named({"cpu.util": 10, "mem.util": 1})  # a breach forecast
    assert not cascade_named({"cpu.util": 10, "mem.util": 9})  # past FAIL itself


def test_the_gate_holds_the_alarm_in_a_fail_that_names_no_cascade() -> None:
    on, off = _config(alarm_cascade=True), _config()
    quiet, named = {"cpu.util": 10, "mem.util": 0}, {"cpu.util": 10, "mem.util": 7}
    fail, ok = {"fail": 1.0}, {"fail": 0.0}
    assert gated(0.6, 0.1, None, fail, quiet, off) == (0.6, None)
    assert gated(0.6, 0.1, None, ok, quiet, on) == (0.6, None)
    assert gated(0.6, 0.1, None, fail, named, on) == (0.6, None)
    assert gated(0.6, 0.1, None, fail, quiet, on) == (0.1, 0.6)
    assert gated(0.6, 0.1, 0.5, fail, quiet, on) == (0.1, 0.5)
    assert gated(0.05, 0.1, None, fail, quiet, on) == (0.05, None)  # it may fall
    status = replace(on, risk_target="fail")  # P(FAIL): high in a FAIL, as it should be
    assert gated(0.6, 0.1, None, fail, quiet, status) == (0.6, None)


def test_the_gate_lowers_the_alarm_and_leaves_act() -> None:
    plain = _db(Pipeline(_config(alarm_learner=True)), 0, 1500)
    gate = _db(Pipeline(_config(alarm_learner=True, alarm_cascade=True)), 0, 1500)
    assert [signal(r) for r in gate] == [signal(r) for r in plain]
    assert len(gate) > 100 and all(r["risk"] <= 1.0 for r in gate)


def test_in_a_fail_alone_the_alarm_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wiring: every window's risk made 0.9 before the gate; db-1's alarm set off in
    its FAIL (cpu alone, from sample 1400): the gate keeps it off there, ``act`` does not."""
    monkeypatch.setattr(pipeline, "emitted", lambda *_: 0.9)
    runs = []
    for on in (False, True):
        p = Pipeline(_config(alarm_learner=True, alarm_cascade=on))
        _db(p, 0, 1410)
        p._states["db-1"].last_risk = 0.0  # the alarm off, at FAIL
        runs.append(_db(p, 1410, 1500))
    plain, gate = runs
    assert {r["risk"] for r in plain} == {0.9} and {r["risk"] for r in gate} == {0.0}
    assert [signal(r) for r in gate] == [signal(r) for r in plain]


def test_a_checkpoint_without_the_gate_restores_with_it() -> None:
    """No state and no state-key part: an s24 checkpoint (the gate off) restores under the
    gate, and the restored component goes on as one that ran with the gate all along would
    from the same state."""
    restores_under(PipelineConfig(alarm_cascade=False), PipelineConfig(alarm_cascade=True))


def restores_under(off: PipelineConfig, on: PipelineConfig) -> None:
    """A checkpoint made under ``off`` restores under ``on`` (same state key) and the restored
    component's next risk events equal those of a twin restored plainly under ``on``."""
    assert off.state_key() == on.state_key()
    old = CheckpointedPipeline(off, "m")
    for i, s in enumerate(fleet_samples(720, components=1)):
        old.at(0, i)
        old.ingest(s)
    comp = old.components()[0]
    value = old.checkpoint(comp, 0)[1]
    new, twin = CheckpointedPipeline(on, "m"), Pipeline(on)
    assert new.restore_checkpoint(decode(value), value)
    twin.restore(comp, decode(value).blob)
    nxt = fleet_samples(780, components=1)[720:]
    got = []
    for i, s in enumerate(nxt, 720):
        new.at(0, i)
        got += new.ingest(s).risk
    assert got == [r for s in nxt for r in twin.ingest(s).risk] and len(got) == 10
