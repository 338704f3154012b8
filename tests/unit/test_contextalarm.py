"""``context_alarm`` (issue #15, s28): a child's alarm reads its parents' standing from their
alarm (the risk they emitted), the status as before; ``act``'s context is the parents' act."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from processors.calibration import RiskLearner
from processors.componentstate import ComponentState
from processors.config import PipelineConfig
from processors.contextalarm import alarm_base, standings
from processors.health import FAIL, PASS, HealthState, RuleState
from tests.unit.test_alarmcascade import restores_under

H = 900_000
ON = PipelineConfig(context_alarm=True)


def _parent(risk: float, act: float | None, status: int = PASS,
            since: int = 0) -> ComponentState:
    health = HealthState(last_ts_ms=0, rules={"disk": RuleState(status=status,
                                                                 fail_since_ms=since)})
    return cast(ComponentState, SimpleNamespace(health=health, last_risk=risk, last_act=act))


def test_the_alarm_reads_the_parents_alarm_act_their_act() -> None:
    silent = _parent(0.0, 0.99)  # its records discounted the forecast: its alarm is silent
    assert standings([silent], H, H, PipelineConfig(context_alarm=False)) == (0.99, None)
    assert standings([silent], H, H, ON) == (0.99, 0.0)
    assert standings([silent, _parent(0.4, None)], H, H, ON) == (0.99, 0.4)
    assert standings([_parent(0.4, None)], H, H, ON) == (0.4, None)  # the same: None
    assert standings([], H, H, ON) == (None, None)


def test_a_fresh_status_stands_for_both() -> None:
    failing = _parent(0.1, 0.9, FAIL, since=H // 2)
    assert standings([failing], H, H, ON) == (1.0, None)
    assert standings([failing], 2 * H, H, ON) == (0.9, 0.1)  # no longer news: the risks
    stale = PipelineConfig(context_alarm=True, context_fresh=False)
    assert standings([failing], 2 * H, H, stale) == (1.0, None)


def test_only_the_alarms_context_changes() -> None:
    base = {"breach": 0.2, "context": 0.99}
    learner = RiskLearner()
    assert alarm_base(base, None, learner, ON) is base
    alarm = alarm_base(base, 0.3, learner, ON)
    assert alarm == {"breach": 0.2, "context": 0.3} and base["context"] == 0.99


def test_a_checkpoint_without_it_restores_with_it() -> None:
    """No state and no state-key part."""
    restores_under(PipelineConfig(context_alarm=False), ON)
