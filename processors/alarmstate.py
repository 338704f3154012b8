"""The alarm state: when to page, carried apart from the calibrated risk (issue #15, s29).

``RiskScore.risk`` is a calibrated probability (of a new FAIL within the horizon); whether a
page is out is a decision on it, and deciding it window by window pages again at every
re-crossing of the alarm point. With ``alarm_hold_s`` > 0 each risk record also carries
``alarm``: the alarm state, firing or not.

* it starts firing when the risk reaches ``alarm_threshold`` (the settings' ``risk_threshold``);
* once firing, it keeps firing until the risk has stayed below ``alarm_threshold`` for
  ``alarm_hold_s`` (Prometheus' ``keep_firing_for``: "keep this alert firing for the specified
  duration after the firing condition was last met", against flapping);
* while the component is in a rule FAIL (its health is FAIL: an incident is open) it does not
  stop firing: a page already out is not resolved and sent again inside the FAIL it is about
  (Alertmanager notifies once per firing alert; s28: 100 of seed 3's 149 false episodes were
  the alarm re-crossing 1/3 inside a FAIL of hours).

The risk, ``act``, the hold and gates and what is learnt are untouched: the Brier is the
risk's, and the allocators read ``act`` as before (sizing is a probability's business, not a
page's). One slot: :attr:`ComponentState.alarm_hi_ms`, the end of the latest window whose risk
was at or over the alarm point while firing; ``None`` while not firing.
"""

from __future__ import annotations

from typing import Any

from processors.componentstate import ComponentState
from processors.config import PipelineConfig


def firing(hi_ms: int | None, risk: float, ts_ms: int, in_fail: bool, hold_ms: int,
           threshold: float) -> int | None:
    """The alarm's ``hi_ms`` after a window ending at ``ts_ms`` (``None``: not firing).

    >>> firing(None, 0.5, 60_000, False, 900_000, 1 / 3)
    60000
    >>> firing(60_000, 0.1, 900_000, False, 900_000, 1 / 3)  # quiet for 14 min: held
    60000
    >>> firing(60_000, 0.1, 960_000, False, 900_000, 1 / 3) is None  # 15 min: released
    True
    >>> firing(60_000, 0.1, 9_000_000, True, 900_000, 1 / 3)  # in a FAIL: still firing
    60000
    """
    if risk >= threshold:
        return ts_ms
    if hi_ms is not None and (in_fail or ts_ms - hi_ms < hold_ms):
        return hi_ms
    return None


def recorded(st: ComponentState, in_fail: bool, c: PipelineConfig,
             record: dict[str, Any]) -> dict[str, Any]:
    """``record`` (a RiskScore dict) with its ``alarm``: the state where ``alarm_hold_s`` is
    on (the component's state moved on by it), else ``None``."""
    if c.alarm_hold_s <= 0:
        record["alarm"] = None
        return record
    st.alarm_hi_ms = firing(st.alarm_hi_ms, record["risk"], record["ts"], in_fail,
                            c.alarm_hold_s * 1000, c.alarm_threshold)
    record["alarm"] = st.alarm_hi_ms is not None
    return record
