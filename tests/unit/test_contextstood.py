"""``context_stood`` (issue #15, s29): a child's alarm reads a parent's ``act`` only where the
parent's concern stood two consecutive windows, else its alarm; ``act``'s context as before."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from processors.actsignal import WARN_STATE
from processors.calibration import PendingLabels
from processors.componentstate import ComponentState
from processors.config import PipelineConfig
from processors.contextalarm import standings
from processors.contextstood import stood
from processors.health import PASS, HealthState, RuleState
from tests.unit.test_alarmcascade import restores_under

H, W = 900_000, 60_000
ON = PipelineConfig(context_stood=True)


def _parent(risk: float, act: float | None, windows: list[dict[str, int]] | None,
            end: int = H) -> ComponentState:
    health = HealthState(last_ts_ms=0, rules={"disk": RuleState(status=PASS)})
    pending = None
    if windows is not None:
        pending = PendingLabels(horizon_ms=H)
        for i, states in enumerate(windows):
            pending.add(end - (len(windows) - 1 - i) * W, {"breach": 0.0}, states)
    return cast(ComponentState, SimpleNamespace(health=health, last_risk=risk, last_act=act,
                                                pending=pending))


def test_a_one_window_forecast_did_not_stand() -> None:
    blip = _parent(0.0, 0.99, [{"disk": 0}, {"disk": 1}])
    assert not stood(blip, H, H)
    assert standings([blip], H, H, ON) == (0.99, 0.0)
    assert standings([blip], H, H, PipelineConfig()) == (0.99, None)  # off: as before
    tail = _parent(0.0, 0.9, [{"disk": 1}, {"disk": 0}, {"disk": 0}])  # held after it
    assert standings([tail], H, H, ON) == (0.9, 0.0)


def test_a_concern_of_two_windows_stood() -> None:
    peak = _parent(0.03, 0.77, [{"disk": 1}, {"disk": 2}, {"disk": 0}])
    assert stood(peak, H, H)
    assert standings([peak], H, H, ON) == (0.77, None)
    warn = _parent(0.0, 0.8, [{"cpu": WARN_STATE}, {"cpu": WARN_STATE}])
    assert standings([warn], H, H, ON) == (0.8, None)
    other = _parent(0.0, 0.8, [{"cpu": WARN_STATE}, {"disk": 1}])  # not the same metric
    assert standings([other], H, H, ON) == (0.8, 0.0)
    old = _parent(0.0, 0.8, [{"disk": 1}, {"disk": 1}], end=H // 2)  # outside the horizon
    assert not stood(old, 2 * H, H)


def test_the_alarms_own_risk_and_no_pending_stand_as_before() -> None:
    assert standings([_parent(0.4, None, [])], H, H, ON) == (0.4, None)
    assert standings([_parent(0.1, 0.9, None)], H, H, ON) == (0.9, None)
    both = PipelineConfig(context_stood=True, context_alarm=True)  # context_alarm wins
    assert standings([_parent(0.03, 0.77, [{"disk": 1}, {"disk": 1}])], H, H, both) == (0.77, 0.03)


def test_a_checkpoint_without_it_restores_with_it() -> None:
    """No state and no state-key part."""
    restores_under(PipelineConfig(context_stood=False), ON)
