"""The alarm in a lasting FAIL, with ``fail_mean`` (issue #15, s28).

A component that has been in a rule FAIL for a horizon is in a stationary state: its
metrics sit at their limits, and whether a *new* breach (another metric's, or one re-crossing
after a horizon out) begins within the next horizon is about as likely from one minute to
the next. The per-window risk still wavers with the evidence, and each time it crosses the
alarm point (1/3) from below a new alarm episode begins: a web whose plateau hovers at its
limits all afternoon makes dozens (breach round twenty, seasonal: 100 of seed 3's 149 false
episodes). With ``fail_mean``, once the component has been in FAIL for a horizon (the
earliest ``fail_since_ms`` of its rules in FAIL), its alarm is the exponential mean of its
risk with the horizon as time constant (``a = 1 - exp(-dt / h)`` per window): the same
probability, said once. Out of that regime (out of FAIL, or a FAIL younger than a horizon)
the mean restarts at the risk. The alarm only: ``act``, ``last_risk`` (the hold, the
``alarm_cascade`` gate, the children's context) and what is learnt keep the risk unsmoothed.
No parameter chosen on labels (both constants are the label's horizon); one slot,
:attr:`~processors.componentstate.ComponentState.fail_mean`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from processors.componentstate import ComponentState
from processors.config import PipelineConfig


def fail_began(st: ComponentState) -> int | None:
    """When the component's oldest unbroken FAIL condition began (``None``: none holds)."""
    began: int | None = None
    for rs in st.health.rules.values():
        t = rs.fail_since_ms
        if t is not None and (began is None or t < began):
            began = t
    return began


def alarm(st: ComponentState, risk: float, act_risk: float | None, base: Mapping[str, float],
          end_ms: int, config: PipelineConfig) -> tuple[float, float | None]:
    """The alarm's risk and ``act``'s (``None``: the alarm's) after ``fail_mean``; keeps the
    mean in ``st.fail_mean`` (``None`` out of the regime or with the option off)."""
    if not config.fail_mean or config.risk_target != "onset" or base.get("fail", 0.0) <= 0.0:
        st.fail_mean = None
        return risk, act_risk
    h_ms = config.horizon_s * 1000
    began = fail_began(st)
    last = st.pending.last_end_ms if st.pending is not None else None
    prev = st.fail_mean
    if (prev is None or began is None or last is None or end_ms <= last
            or end_ms - began < h_ms):
        st.fail_mean = risk
        return risk, act_risk
    mean = prev + (1.0 - math.exp((last - end_ms) / h_ms)) * (risk - prev)
    st.fail_mean = mean
    if mean == risk:
        return risk, act_risk
    return mean, risk if act_risk is None else act_risk
