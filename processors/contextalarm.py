"""The alarm's ``context`` read from the parents' alarm, with ``context_alarm`` (issue #15, s28).

A child's ``context`` is its parents' standing: the larger of each parent's risk and its rule
status (:mod:`processors.contextfresh`). The parent's risk there is its ``act``: the risk with
the evidence unweighed (no ``forecast_trust`` / ``warn_trust`` / ``hover`` discount, no cascade
gate; :mod:`processors.actsignal`). So where a parent's own records judged its breach forecast
untrustworthy and its alarm stayed silent, its children still alarmed on the forecast it
discounted: e.g. ``fleet``'s db-0005 at minute 1032 of seed 42, one window's disk forecast,
alarm 0.00, ``act`` 0.99 held for twelve windows, four children's false episodes (breach round
twenty, context).

With ``context_alarm`` the child's *alarm* reads its parents' standing from their alarm (the
risk they emitted, ``last_risk``) with the status as before; ``act``, its ``context``, the
network's ``context`` state, what is learnt and the records keep the standing from the parents'
``act``, so the allocators and the grandchildren read what they read without it. Like
``season_alarm``: an alarm-only reading, no state, no parameter.
"""

from __future__ import annotations

from collections.abc import Sequence

from processors.calibration import RiskLearner
from processors.componentstate import ComponentState
from processors.config import PipelineConfig
from processors.contextfresh import fresh_status, standing
from processors.contextstood import standing as stood_standing


def standings(parents: Sequence[ComponentState], now_ms: int, horizon_ms: int,
              config: PipelineConfig) -> tuple[float | None, float | None]:
    """The parents' standing (:func:`~processors.contextfresh.standing`; ``None``: no parent)
    and, with ``context_alarm``, the alarm's where it differs (its risk the parents' alarm;
    ``None``: the same); with ``context_stood`` (s29), the parents' ``act`` where it stood
    (:func:`processors.contextstood.standing`)."""
    if not (config.context_alarm or config.context_stood) or not parents:
        return standing(parents, now_ms, horizon_ms, config.context_fresh), None
    act = seen = 0.0
    for p in parents:
        status = (fresh_status(p.health, now_ms, horizon_ms) if config.context_fresh
                  else p.health.worst() / 2.0)
        mine = p.last_risk if p.last_act is None else p.last_act
        act = max(act, mine, status)
        if not config.context_alarm and mine > max(seen, status):
            mine = stood_standing(p, mine, now_ms, horizon_ms)
        seen = max(seen, p.last_risk if config.context_alarm else mine, status)
    return act, (None if seen == act else seen)


def alarm_base(base: dict[str, float], seen: float | None, learner: RiskLearner,
               config: PipelineConfig) -> dict[str, float]:
    """The evidence the alarm reads: ``base`` itself where ``seen`` is ``None``, else ``base``
    with its ``context`` from the alarm's standing ``seen``, scaled as
    :func:`~processors.actsignal.context_of` scales the parents' standing."""
    if seen is None:
        return base
    if config.context_reach:
        seen *= learner.reach()
    if config.alarm_reach:
        seen *= learner.reach()
    return {**base, "context": seen}
