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

With ``alarm_learner`` (s21, an option) each :class:`~processors.calibration.RiskLearner` keeps
an alarm head (``RiskLearner.alarm``: s21's whole second learner, made lean in s22: its own
calibration over the learner's network) that learns the evidence as the records weighed it and
gives the alarm's risk, so the alarm's calibration can make up for the discounts while ``act``
stays the default's risk: a pending window keeps the weighed ``breach`` / ``warn`` beside the
unweighed evidence (:data:`ALARM_KEYS`, :func:`kept`), and :func:`learn_both` gives each
learner its own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from processors.anomaly import ComponentNovelty
from processors.bayesnet import FAIL_STATE, unexplained
from processors.calibration import RiskLearner, held
from processors.componentstate import ComponentState
from processors.config import PipelineConfig
from processors.evidence import WindowEvidence
from processors.risk import Assessment, RiskModel


def unweighed(base: Mapping[str, float], ev: WindowEvidence, onset: bool,
              at_warn: bool, reach: bool = False) -> dict[str, float] | None:
    """The risk's evidence ``base`` as it was before the records weighed it, or ``None``
    where they changed nothing."""
    parent = base.get("parent") if reach else None  # ``alarm_reach``: before the reach
    if ev.unweighed is None and (parent is None or parent == base["context"]):
        return None
    out = dict(base)
    if ev.unweighed is not None:
        p_new, warn = ev.unweighed
        if onset:
            out["breach"] = p_new
        if at_warn:
            out["warn"] = warn
    if parent is not None:
        out["context"] = parent
    return None if out == base else out


def context_of(parent: float | None, learner: RiskLearner, states: dict[str, int],
               config: PipelineConfig) -> float | None:
    """The ``context`` evidence from the parents' standing ``parent`` (``None``: no parent
    known), and the network's discretised ``context`` state in ``states``: scaled by the
    learner's reach with ``context_reach`` (round six, s14); with ``alarm_reach`` (s21) the
    alarm's alone is (the state, ``act`` and what is learnt keep the parents' standing)."""
    if parent is None:
        return None
    context = parent * learner.reach() if config.context_reach else parent
    states["context"] = 0 if context < 0.3 else (1 if context < 0.6 else 2)
    return context * learner.reach() if config.alarm_reach else context


WARN_STATE = FAIL_STATE - 3  # a metric's states from here to FAIL_STATE: at or past WARN

# a pending window's evidence as the alarm read it, where it differs (``alarm_learner``)
ALARM_KEYS = {"alarm.breach": "breach", "alarm.warn": "warn"}


def judge(model: RiskModel, base: Mapping[str, float], states: Mapping[str, int],
          config: PipelineConfig) -> Assessment:
    """The alarm's assessment of the window: with ``alarm_learner``, by ``model``'s alarm
    head once it has one (:class:`~processors.calibration.AlarmHead`); else ``model``'s.
    With ``alarm_explain`` (s24), in a rule FAIL the head reads the network less the nodes of
    the metrics past FAIL (what the FAIL under way explains); the assessment's ``drivers``
    stay the whole network's (``act`` reads them)."""
    if config.alarm_learner and isinstance(model, RiskLearner) and model.alarm is not None:
        drivers = model.bn.explain(states)
        if config.alarm_explain and base.get("fail", 0.0) > 0.0:
            a = model.assess_by(base, unexplained(drivers, states), model.alarm)
            return Assessment(a.risk, a.terms, drivers)
        return model.assess_by(base, drivers, model.alarm)
    return model.assess(base, states)


def kept(base: dict[str, float], act: dict[str, float] | None,
         config: PipelineConfig) -> dict[str, float]:
    """The evidence a pending window keeps: the unweighed (``act``, ``None``: as ``base``)
    and, with ``alarm_learner``, the alarm's ``breach`` and ``warn`` where they differ."""
    if act is None:
        return base
    if not config.alarm_learner:
        return act
    return {**act, **{k: base[name] for k, name in ALARM_KEYS.items()}}


def learn_both(model: RiskLearner, base: Mapping[str, float], states: Mapping[str, int],
               y: bool, config: PipelineConfig) -> None:
    """One labelled window (``base`` as :func:`kept` made it): with ``alarm_learner``, the
    alarm's head learns the alarm's evidence (with ``alarm_explain``, as :func:`judge` reads
    it), and ``model`` the unweighed (one network read)."""
    act, weighed = split(base)
    if config.alarm_learner:
        model.learn_pair(act, weighed, states, y, config.alarm_explain)
    else:
        model.learn_one(act, states, y)


def split(base: Mapping[str, float]) -> tuple[Mapping[str, float], Mapping[str, float]]:
    """A kept window's unweighed evidence and the alarm's (the same where nothing differs)."""
    if "alarm.breach" not in base:
        return base, base
    act = {k: v for k, v in base.items() if k not in ALARM_KEYS}
    return act, {**act, **{name: base[k] for k, name in ALARM_KEYS.items()}}


def acted(st: ComponentState, model: RiskModel, base: Mapping[str, float], ev: WindowEvidence,
          at_warn: bool, raw: float, end_ms: int, config: PipelineConfig,
          drivers: dict[str, float] | None = None, other: bool = False
          ) -> tuple[dict[str, float] | None, float | None]:
    """The window's unweighed evidence (``None``: as weighed) and its risk, held from its own
    previous value (``None`` where it is the alarm's: no discount now or before, and no
    alarm head of its own). ``raw``: the alarm's risk before the hold; ``drivers``: the
    network's ratios the alarm read (:func:`judge`; ``None``: read again); ``other``: the
    alarm read another ``context`` than ``base``'s (``context_alarm``, s28)."""
    act = unweighed(base, ev, config.risk_target == "onset", at_warn, config.alarm_reach)
    own = other or (config.alarm_learner and isinstance(model, RiskLearner)
                    and model.alarm is not None)
    if act is None and st.last_act is None and not own:
        return None, None
    if act is not None or own:
        x = base if act is None else act
        judged = (model.assess_by(x, drivers) if drivers is not None
                  and isinstance(model, RiskLearner) else model.assess(x, ev.states))
        raw = min(1.0, max(0.0, judged.risk))
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


def gated(risk: float, last_risk: float, act_risk: float | None, base: Mapping[str, float],
          states: Mapping[str, int], config: PipelineConfig,
          failed: Collection[str] = ()) -> tuple[float, float | None]:
    """The alarm's risk and ``act``'s (``None``: the alarm's) after the ``alarm_cascade`` gate
    (s25): in a rule FAIL with no evidence of a cascade (:func:`cascade_named`) the alarm is
    at most ``last_risk``, the previous window's, and ``act`` keeps the risk ungated. Only
    for ``risk_target="onset"`` (P(a *new* FAIL); ``"fail"``'s risk stays high in a FAIL).
    With ``alarm_refractory`` (s26) the gate holds while any metric is in ``failed`` (a rule
    in FAIL within the horizon: its next crossing is the same breach, not an onset), in a
    FAIL or after it, and those metrics are no evidence of a cascade."""
    if not config.alarm_cascade or risk <= last_risk or config.risk_target != "onset":
        return risk, act_risk
    if config.alarm_refractory:
        if (not failed and base.get("fail", 0.0) <= 0.0) or cascade_named(states, failed):
            return risk, act_risk
    elif base.get("fail", 0.0) <= 0.0 or cascade_named(states):
        return risk, act_risk
    return last_risk, risk if act_risk is None else act_risk


def cascade_named(states: Mapping[str, int], failed: Collection[str] = ()) -> bool:
    """Whether a rule metric below its FAIL level band, and not in ``failed``, is at WARN or
    has a breach forecast (network state: level band 2, or outlook band 1 or 2): another
    metric of a component in FAIL that may start a new breach (``context`` is not a metric)."""
    return any(s < FAIL_STATE and (s >= WARN_STATE or s % 3) for k, s in states.items()
               if k != "context" and k not in failed)


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
