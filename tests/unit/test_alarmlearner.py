"""The alarm's own learner (``alarm_learner``, issue #15, s21): a second learner per risk model
learns the evidence as the records weighed it and gives the alarm; ``act`` stays the plain
default's risk, window for window."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from actuators.signal import signal
from processors.actsignal import judge, kept, split
from processors.calibration import AlarmHead, RiskLearner, lean_alarm
from processors.config import PipelineConfig
from processors.pipeline import Pipeline
from tests.unit.test_actsignal import DISCOUNTS, OFF, _plateau


def _config(**kw: Any) -> PipelineConfig:
    return replace(PipelineConfig(fleet_min_labels=20, **OFF), **kw)


def test_act_is_the_plain_risk_and_the_alarm_its_own_learners() -> None:
    plain = _plateau(Pipeline(_config()), 0, 2000)  # five ramps
    one = _plateau(Pipeline(_config(**DISCOUNTS)), 0, 2000)
    own = _plateau(Pipeline(_config(alarm_learner=True, **DISCOUNTS)), 0, 2000)
    assert len(plain) == len(one) == len(own) > 100
    assert [signal(r) for r in own] == [signal(r) for r in plain] == [signal(r) for r in one]
    assert [r["risk"] for r in own] != [r["risk"] for r in one]  # the alarm learnt its own
    assert all(r["act"] is None or r["act"]["risk"] != r["risk"]
               or r["act"]["anomaly"] != r["anomaly"] for r in own)


def test_without_a_discount_the_alarm_learner_is_the_act_learner() -> None:
    base = _plateau(Pipeline(_config()), 0, 800)
    own = _plateau(Pipeline(_config(alarm_learner=True)), 0, 800)
    assert own == base


def test_kept_evidence_splits_into_the_two() -> None:
    weighed = {"breach": 0.2, "warn": 0.5, "fail": 0.0}
    act = {"breach": 0.6, "warn": 1.0, "fail": 0.0}
    on, off = _config(alarm_learner=True), _config()
    assert kept(weighed, None, on) is weighed and kept(weighed, act, off) is act
    assert split(kept(weighed, act, on)) == (act, weighed)
    assert split(act) == (act, act)


def _learnt(n: int = 30, lr: float = 0.0) -> RiskLearner:
    r = RiskLearner(lr=lr)  # the pipeline's: risk_lr 0
    for i in range(n):
        r.learn_one({"breach": 0.1 * (i % 3)}, {"cpu.util": i % 3}, i % 7 == 0)
    return r


@pytest.mark.parametrize("lr", [0.0, 0.05])
def test_an_old_learner_starts_its_alarm_head_and_it_is_s21s_second_learner(lr: float) -> None:
    r, twin = _learnt(lr=lr), _learnt(lr=lr)
    assert r.alarm is None  # a learner written before s21, or with the option off
    alarm = copy.deepcopy(twin)  # s21: a whole second learner, learning the weighed evidence
    r.learn_pair({"breach": 0.6}, {"breach": 0.9}, {"cpu.util": 2}, True)
    twin.learn_one({"breach": 0.6}, {"cpu.util": 2}, True)
    alarm.learn_one({"breach": 0.9}, {"cpu.util": 2}, True)
    assert isinstance(r.alarm, AlarmHead)
    assert (r.alarm.combiner is None) == (lr == 0)  # lr 0: the learner's, at its priors
    assert r.bn == twin.bn == alarm.bn and r.labels == twin.labels == 31
    for x in ({"breach": 0.5}, {"breach": 0.95, "warn": 1.0}):
        states = {"cpu.util": 1}
        assert r.assess_by(x, r.bn.explain(states), r.alarm) == alarm.assess(x, states)
        assert r.assess(x, states) == twin.assess(x, states)


def test_an_s21_snapshot_reads_its_second_learner_as_the_head() -> None:
    r, alarm = _learnt(), _learnt(40)  # as s21 wrote a learner and its whole second learner
    fields = {"lr": 0.0, "target": "onset", "alarm": alarm, "combiner": copy.deepcopy(r.combiner)}
    lean_alarm(fields)  # the state reader's hook
    assert fields["alarm"] == AlarmHead(alarm.calibrator, None)
    assert fields["combiner"] is RiskLearner(lr=0.0).combiner  # the priors', shared


def test_a_restored_component_goes_on_with_its_alarm_learner() -> None:
    config = _config(alarm_learner=True, **DISCOUNTS)
    p, whole = Pipeline(config), Pipeline(config)
    _plateau(whole, 0, 500)
    _plateau(p, 0, 500)
    assert p._states["web-1"].learner.alarm is not None
    twin = Pipeline(config)
    twin.restore("web-1", p.snapshot("web-1"))
    assert twin._states["web-1"].learner.alarm is not None
    assert _plateau(twin, 500, 800) == _plateau(whole, 500, 800)


def _pair(p: Pipeline, i0: int, i1: int) -> list[dict[str, Any]]:
    """A db that ramps into FAIL again and again, and a web that depends on it and stays
    well: the parent's trouble never reaches the child."""
    risk: list[dict[str, Any]] = []
    for i in range(i0, i1):
        j = i % 300
        v = 0.2 + 0.004 * j if j < 200 else 0.95
        for comp, metrics in (("db-1", {"cpu.util": v}),
                              ("web-1", {"cpu.util": 0.3 + 0.001 * (i % 50)})):
            risk += [r for r in p.ingest({"component": comp, "host": "h", "ts": i * 10_000,
                                          "tags": {}, "metrics": metrics}).risk
                     if r["component"] == "web-1"]
    return risk


def test_the_alarms_reach_leaves_act_and_lowers_the_childs_alarm() -> None:
    deps = {"dependencies": (("web-1", "db-1"),), "warn_trust": 0.0}
    plain = _pair(Pipeline(_config(**deps)), 0, 1500)
    reach = _pair(Pipeline(_config(alarm_reach=True, **deps)), 0, 1500)
    assert len(plain) == len(reach) > 100
    assert [signal(r) for r in reach] == [signal(r) for r in plain]
    assert all(r["risk"] <= r["act"]["risk"] for r in reach if r["act"] is not None)
    assert any(r["act"] is not None and r["risk"] < r["act"]["risk"] for r in reach)


def _db(p: Pipeline, i0: int, i1: int) -> list[dict[str, Any]]:
    """``_pair``'s db alone: ramps into FAIL and holds it, again and again."""
    risk: list[dict[str, Any]] = []
    for i in range(i0, i1):
        j = i % 300
        risk += p.ingest({"component": "db-1", "host": "h", "ts": i * 10_000, "tags": {},
                          "metrics": {"cpu.util": 0.2 + 0.004 * j if j < 200 else 0.95}}).risk
    return risk


def test_the_alarm_explains_its_fail_away_and_leaves_act() -> None:
    plain = _db(Pipeline(_config(alarm_learner=True)), 0, 1500)
    explained = _db(Pipeline(_config(alarm_learner=True, alarm_explain=True)), 0, 1500)
    assert len(plain) == len(explained) > 100
    assert [signal(r) for r in explained] == [signal(r) for r in plain]
    r = _learnt()
    r.learn_pair({"fail": 1.0}, {"fail": 1.0}, {"cpu.util": 10}, False)
    states = {"cpu.util": 10, "mem.util": 4}
    on, off = _config(alarm_learner=True, alarm_explain=True), _config(alarm_learner=True)
    for fail in (0.0, 1.0):  # in FAIL the alarm reads the network less cpu's node
        a, b = judge(r, {"fail": fail}, states, on), judge(r, {"fail": fail}, states, off)
        assert a.drivers == b.drivers and (a.risk == b.risk) == (fail == 0.0)
        assert (a.terms["bn"] < b.terms["bn"]) == (fail == 1.0)


def test_out_of_fail_the_head_learns_as_without_explain() -> None:
    r, twin = _learnt(), _learnt()
    for fail in (0.0, 1.0):
        x = {"breach": 0.3, "fail": fail}
        r.learn_pair(x, x, {"cpu.util": 10, "mem.util": 4}, True, explain=True)
        twin.learn_pair(x, x, {"cpu.util": 10, "mem.util": 4}, True)
        assert (r.alarm == twin.alarm) == (fail == 0.0)
    assert r.bn == twin.bn and r.calibrator == twin.calibrator  # the learner is the same
