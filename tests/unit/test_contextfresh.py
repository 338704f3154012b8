"""``context_fresh`` (issue #15, s27): a parent's status counts in its children's ``context``
only while news (a rule of the parent reached it within the horizon); its risk always."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from processors.componentstate import ComponentState
from processors.config import PipelineConfig
from processors.contextfresh import fresh_status, standing
from processors.health import FAIL, PASS, WARN, HealthState, RuleState
from tests.unit.test_alarmcascade import restores_under

H = 900_000


def _health(**rules: RuleState) -> HealthState:
    return HealthState(last_ts_ms=0, rules=dict(rules))


def test_a_status_is_news_for_a_horizon() -> None:
    fail = _health(disk=RuleState(status=FAIL, warn_since_ms=0, fail_since_ms=600_000),
                   cpu=RuleState(status=PASS))
    assert fresh_status(fail, 600_000 + H, H) == 1.0
    assert fresh_status(fail, 600_001 + H, H) == 0.0
    warn = _health(mem=RuleState(status=WARN, warn_since_ms=100_000))
    assert fresh_status(warn, 100_000 + H, H) == 0.5
    assert fresh_status(warn, 200_000 + H, H) == 0.0
    assert fresh_status(_health(cpu=RuleState(status=PASS)), 0, H) == 0.0
    # another rule that reached the same status lately makes it news again
    both = _health(disk=RuleState(status=FAIL, fail_since_ms=0),
                   cpu=RuleState(status=FAIL, fail_since_ms=2 * H))
    assert fresh_status(both, 2 * H + 60_000, H) == 1.0


def test_the_risk_always_stands_and_off_is_as_before() -> None:
    p = cast(ComponentState, SimpleNamespace(
        health=_health(disk=RuleState(status=FAIL, fail_since_ms=0)), last_risk=0.2,
        last_act=None))
    assert standing([p], 10 * H, H, fresh=False) == 1.0
    assert standing([p], 10 * H, H, fresh=True) == 0.2
    p.last_act = 0.4  # the parent's act, where it differs, as without the option
    assert standing([p], 10 * H, H, fresh=True) == 0.4
    assert standing([], 0, H, fresh=True) is None


def test_a_checkpoint_without_it_restores_with_it() -> None:
    """No state and no state-key part."""
    restores_under(PipelineConfig(context_fresh=False), PipelineConfig(context_fresh=True))
