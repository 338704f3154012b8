"""What the allocators act on: a RiskScore's ``act`` (issue #15, s20).

The alarm (``risk``, ``anomaly``) is what people, risk-topic consumers and the breach scorer
read; it may be lowered by learnt discounts (the forecast records' ``forecast_trust`` /
``warn_trust`` / ``hover``, :mod:`processors.forecastrecord`) and by the novelty suppressor's
``hold`` (:mod:`processors.anomaly`). The allocators must not be: ``act`` is the same window's
risk with the evidence as the records found it, unweighed, and its anomaly without the hold.
It is ``None`` where both equal the alarm's (the default's alarm with no discount active), so
a reader takes ``act`` if present, else ``risk`` / ``anomaly`` (:mod:`actuators.signal`).

The risk model learns from the unweighed evidence (a discount is a reading of the evidence at
the alarm, not evidence), the components that depend on this one read its unweighed risk as
their ``context``, and ``risk_hold`` holds each of the two risks from its own previous value:
so ``act`` is, window for window, the risk of the configuration without the discounts, and a
closed loop driven by it is the default's by construction.
"""

from __future__ import annotations

from collections.abc import Mapping

from processors.anomaly import ComponentNovelty
from processors.calibration import held
from processors.componentstate import ComponentState
from processors.config import PipelineConfig
from processors.evidence import WindowEvidence
from processors.risk import RiskModel


def unweighed(base: Mapping[str, float], ev: WindowEvidence, onset: bool,
              at_warn: bool) -> dict[str, float] | None:
    """The risk's evidence ``base`` as it was before the records weighed it, or ``None``
    where they changed nothing."""
    if ev.unweighed is None:
        return None
    p_new, warn = ev.unweighed
    out = dict(base)
    if onset:
        out["breach"] = p_new
    if at_warn:
        out["warn"] = warn
    return None if out == base else out


def acted(st: ComponentState, model: RiskModel, base: Mapping[str, float], ev: WindowEvidence,
          at_warn: bool, raw: float, end_ms: int, config: PipelineConfig
          ) -> tuple[dict[str, float] | None, float | None]:
    """The window's unweighed evidence (``None``: as weighed) and its risk, held from its own
    previous value (``None`` where it is the alarm's: no discount now or before). ``raw``:
    the alarm's risk before the hold."""
    act = unweighed(base, ev, config.risk_target == "onset", at_warn)
    if act is None and st.last_act is None:
        return None, None
    if act is not None:
        raw = min(1.0, max(0.0, model.assess(act, ev.states).risk))
    last = st.last_risk if st.last_act is None else st.last_act
    return act, emitted(st, raw, end_ms, last, config)


def emitted(st: ComponentState, risk: float, end_ms: int, last_risk: float,
            config: PipelineConfig) -> float:
    """The risk a window emits: with ``risk_hold``, at least the previous window's
    ``last_risk`` decayed by the time since (:func:`processors.calibration.held`)."""
    last = st.pending.last_end_ms if st.pending is not None else None
    if not config.risk_hold or last is None or end_ms <= last:
        return risk
    return held(risk, last_risk, (end_ms - last) / 1000.0, config.horizon_s)


def unheld(detector: object, anomaly: float) -> float:
    """The window's anomaly before the suppressor's ``hold``: with ``hold``, the score
    suppressed without it (``ComponentNovelty.fine``; with ``coarse`` too, the fine
    resolution's alone, the score the risk reads); else ``anomaly`` itself."""
    if isinstance(detector, ComponentNovelty) and detector.hold:
        return min(1.0, max(0.0, detector.fine))
    return anomaly


def act_record(risk: float, anomaly: float, act_risk: float | None,
               act_anomaly: float) -> dict[str, float] | None:
    """The RiskScore's ``act`` (``act_risk`` ``None``: the alarm's): ``None`` where it
    equals the alarm."""
    act_risk = risk if act_risk is None else act_risk
    if act_risk == risk and act_anomaly == anomaly:
        return None
    return {"risk": act_risk, "anomaly": act_anomaly}
