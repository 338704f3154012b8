"""``fail_mean`` (issue #15, s28): once a component has been in a rule FAIL for a horizon,
its alarm is the exponential mean of its risk (time constant: the horizon); ``act`` keeps
the risk."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, cast

from processors.componentstate import ComponentState
from processors.config import PipelineConfig
from processors.failmean import alarm, fail_began
from processors.health import FAIL, PASS, HealthState, RuleState
from processors.pipeline import Pipeline
from streams.sim.examples import fleet_samples
from tests.unit.test_alarmcascade import restores_under

H = 900_000
ON = PipelineConfig(fail_mean=True)
IN_FAIL = {"fail": 1.0}


def _state(fail_since: int | None, last_end: int | None = 0) -> Any:
    rules = {"cpu": RuleState(status=FAIL, fail_since_ms=fail_since),
             "mem": RuleState(status=PASS)}
    return SimpleNamespace(health=HealthState(last_ts_ms=0, rules=rules), fail_mean=None,
                           pending=SimpleNamespace(last_end_ms=last_end))


def test_a_young_fail_emits_the_risk_an_old_one_its_mean() -> None:
    st = _state(fail_since=0, last_end=H - 60_000)
    assert fail_began(cast(ComponentState, st)) == 0
    # a FAIL younger than a horizon: the risk, and the mean starts there
    assert alarm(st, 0.2, None, IN_FAIL, H - 1, ON) == (0.2, None)
    assert st.fail_mean == 0.2
    st.pending.last_end_ms = H - 60_000
    risk, act = alarm(st, 0.8, None, IN_FAIL, H, ON)
    a = 1.0 - math.exp(-60_000 / H)
    assert math.isclose(risk, 0.2 + a * 0.6) and act == 0.8 and st.fail_mean == risk
    # act, where the alarm had one apart already, is kept
    assert alarm(st, 0.8, 0.9, IN_FAIL, H + 60_000, ON)[1] == 0.9


def test_out_of_fail_or_off_the_risk_and_no_mean() -> None:
    st = _state(fail_since=0)
    st.fail_mean = 0.5
    assert alarm(st, 0.7, None, {"fail": 0.0}, 10 * H, ON) == (0.7, None)
    assert st.fail_mean is None
    st.fail_mean = 0.5
    assert alarm(st, 0.7, None, IN_FAIL, 10 * H, PipelineConfig()) == (0.7, None)
    assert st.fail_mean is None
    # no rule's FAIL condition holds now (the window's status is older): the risk
    st = _state(fail_since=None)
    st.fail_mean = 0.5
    assert alarm(st, 0.7, None, IN_FAIL, 10 * H, ON) == (0.7, None) and st.fail_mean == 0.7


def test_the_mean_is_state_and_restores() -> None:
    p, q = Pipeline(ON), Pipeline(ON)
    for s in fleet_samples(30, components=1):
        p.ingest(s)
    comp = p.components()[0]
    p._states[comp].fail_mean = 0.42  # noqa: SLF001
    q.restore(comp, p.snapshot(comp))
    assert q._states[comp].fail_mean == 0.42  # noqa: SLF001


def test_a_checkpoint_without_it_restores_with_it() -> None:
    restores_under(PipelineConfig(), ON)
