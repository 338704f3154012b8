"""A cascade's child pages while its parent pages, with ``cascade_page`` (issue #15, s30).

The breaches the alarm misses most 5 minutes ahead are a cascade's children: a child breaches
1 to 4 minutes after its root, with no forecast of its own, while a parent's page has been out
for 8 to 15 minutes (s29's count: 10 of seed 42's 25 misses, 19 of seed 3's 66). The child's
``context`` (its parents' standing) already reads the parent's trouble, but the combiner's
calibrated risk for a child on context alone stays under the alarm point: most children of a
parent at risk do not breach, so past lifts of the child's risk by its parents' (s28's
``context_alarm``, s29's ``context_stood``) paid for them in false episodes. Since s29 an alarm
is a page (:mod:`processors.alarmstate`): a held state, one page per incident, so a child paged
while its parent pages costs one page, not one per crossing.

With ``cascade_page`` a child's emitted risk is at least the alarm point at a window where

* one of its parents' pages is firing (the parent's alarm state as the pipeline holds it when
  it scores the child's window; a parent paged so by its own parent counts too),
* the child's ``context`` as its alarm reads it is at or over the alarm point (the parents'
  standing, their risk or status, still says so: not a page merely held), and
* the child is not in a rule FAIL itself (its own incident is open; the alarm state holds
  through it already).

The child's alarm state then reads that risk. What is learnt, ``act`` (the allocators' signal:
where it was the risk itself, ``null``, the record's ``act`` now carries the risk before the
floor), ``last_risk`` (the hold, the gates, the grandchildren's context) are as without the
option: the floor is on the page, in the emitted risk. No state; every threshold is the alarm
point. Dependency-aware incident tooling does the same by hand (a supporting service's incident
shown as an impact on its dependents: PagerDuty service dependencies, Grafana IRM service
dependencies); Alertmanager's ``inhibit_rules`` go the other way (they mute the dependents).
It needs the alarm state (``alarm_hold_s`` > 0): without it no parent pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from processors.componentstate import ComponentState
from processors.config import PipelineConfig


def floored(risk: float, act_risk: float | None, evidence: Mapping[str, float],
            c: PipelineConfig, parents: Sequence[str],
            states: Mapping[str, ComponentState]) -> tuple[float, float | None]:
    """The risk a child emits and its ``act`` risk (``None``: the emitted one): ``risk`` and
    ``act_risk`` as they are, or, where ``cascade_page`` is on, a parent (in ``states``) is
    paging and ``evidence`` (the alarm's) has its ``context`` at or over the alarm point and no
    rule ``fail``, the alarm point and the risk before it (``act_risk`` if set: what the
    allocators read does not move).

    >>> from processors.config import PipelineConfig
    >>> c = PipelineConfig(cascade_page=True)
    >>> up, calm = ComponentState.__new__(ComponentState), ComponentState.__new__(ComponentState)
    >>> up.alarm_hi_ms, calm.alarm_hi_ms = 60_000, None
    >>> states = {"db": up, "cache": calm}
    >>> ev = {"context": 0.4, "fail": 0.0}
    >>> floored(0.05, None, ev, c, ["cache", "db"], states) == (1 / 3, 0.05)
    True
    >>> floored(0.05, 0.2, ev, c, ["db"], states) == (1 / 3, 0.2)  # act's own, kept
    True
    >>> floored(0.05, None, {"context": 0.2, "fail": 0.0}, c, ["db"], states)  # too low
    (0.05, None)
    >>> floored(0.05, None, {"context": 0.4, "fail": 1.0}, c, ["db"], states)  # own FAIL
    (0.05, None)
    >>> floored(0.05, None, ev, c, ["cache"], states)  # no parent pages
    (0.05, None)
    """
    point = c.alarm_threshold
    if (not c.cascade_page or not parents or risk >= point
            or evidence.get("context", 0.0) < point or evidence.get("fail", 0.0) > 0.0):
        return risk, act_risk
    for name in parents:
        parent = states.get(name)
        if parent is not None and parent.alarm_hi_ms is not None:
            return point, risk if act_risk is None else act_risk
    return risk, act_risk
