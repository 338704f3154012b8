"""A parent's ``act`` counts in its children's alarm only once its concern has stood, with
``context_stood`` (issue #15, s29).

A child's ``context`` is its parents' standing (:mod:`processors.contextfresh`): the parent's
risk is its ``act``, the risk with the evidence unweighed, where that differs from its alarm.
A parent whose records discount a one-window breach forecast stays silent, but its ``act``
(0.99) held by ``risk_hold`` over a horizon set off its children: ``fleet``'s db-0005 at
minute 1032 of seed 42, one window's ``disk.io_util`` forecast, four children's false
episodes (breach round twenty, context). Reading the parents' alarm instead
(``context_alarm``, s28) also silenced a parent's forecast that a shared load peak made right
for its child (seed 2's ``daily_peaks`` app-01: its parent db-01 forecast for several windows,
its alarm discounted it, app-01 breached 13 minutes later).

With ``context_stood`` the child's *alarm* reads a parent's ``act`` only where the parent's
concern stood for more than one window: in two consecutive windows of the horizon before, some
rule metric of the parent below FAIL was at WARN or had a breach forecast (the network's metric
states, :func:`~processors.actsignal.cascade_named`'s test), read from the parent's pending
windows (:class:`~processors.calibration.PendingLabels`, kept already). Otherwise its alarm
(``last_risk``) stands for it, its status as before. ``act``, its context, what is learnt and
the grandchildren keep the parents' ``act`` (:mod:`processors.contextalarm`'s plumbing). No
state, no parameter.
"""

from __future__ import annotations

from collections.abc import Mapping

from processors.actsignal import WARN_STATE
from processors.bayesnet import FAIL_STATE
from processors.componentstate import ComponentState
from processors.pendingrows import unpack


def named(states: Mapping[str, int]) -> set[str]:
    """The rule metrics below FAIL at WARN or with a breach forecast in ``states``.

    >>> sorted(named({"cpu": WARN_STATE, "disk": 1, "mem": 0, "net": FAIL_STATE, "context": 2}))
    ['cpu', 'disk']
    """
    return {k for k, s in states.items()
            if k != "context" and s < FAIL_STATE and (s >= WARN_STATE or s % 3)}


def stood(parent: ComponentState, now_ms: int, horizon_ms: int) -> bool:
    """Whether some rule metric of ``parent`` was :func:`named` in two consecutive windows of
    its pending ones that end within ``horizon_ms`` before ``now_ms`` (no pending windows
    kept: as without the option)."""
    pending = parent.pending
    if pending is None:
        return True
    since = now_ms - horizon_ms
    before: set[str] = set()
    for row in pending.items:
        end, _, states = unpack(row)
        now = named(states) if end > since else set()
        if now & before:
            return True
        before = now
    return False


def standing(parent: ComponentState, act: float, now_ms: int, horizon_ms: int) -> float:
    """The risk ``parent`` stands by for a child's alarm: its ``act`` if that is its alarm or
    its concern :func:`stood`, else its alarm (``last_risk``)."""
    if act <= parent.last_risk or stood(parent, now_ms, horizon_ms):
        return act
    return parent.last_risk
