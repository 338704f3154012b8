"""The parents' standing for a child's ``context``, with ``context_fresh`` (issue #15, s27).

A parent's standing is the larger of its risk and its worst rule status (WARN 0.5, FAIL 1).
The risk speaks for the parent's next horizon. The status says "the parent is in trouble
now": a cascade it carries reaches the child within the child's horizon of it, or not by that
status (the breach label's horizon). So with ``context_fresh`` a parent's status counts only
while it is news: while some rule of the parent reached that status (its WARN or FAIL
condition began) within the horizon; after that its risk alone stands for it. E.g. a database
whose disk stays full for an hour: its FAIL was evidence for its clients for a horizon, not for
the hour (round eighteen, context). No state: the rules' ``warn_since_ms`` / ``fail_since_ms``
are kept already (:class:`~processors.health.RuleState`).
"""

from __future__ import annotations

from collections.abc import Sequence

from processors.componentstate import ComponentState
from processors.health import FAIL, PASS, HealthState


def fresh_status(health: HealthState, now_ms: int, horizon_ms: int) -> float:
    """The worst status's share of a standing (WARN 0.5, FAIL 1) if a rule reached it within
    ``horizon_ms`` before ``now_ms``, else 0."""
    worst = health.worst()
    if worst == PASS:
        return 0.0
    since = now_ms - horizon_ms
    for rs in health.rules.values():
        if rs.status != worst:
            continue
        began = rs.fail_since_ms if worst == FAIL else rs.warn_since_ms
        if began is None or began >= since:  # unknown start: news (as without the option)
            return worst / 2.0
    return 0.0


def standing(parents: Sequence[ComponentState], now_ms: int, horizon_ms: int,
             fresh: bool) -> float | None:
    """How bad ``parents`` stand, 0..1: the largest of their latest risk (``act``'s where it
    differs) and their worst status, the status only while news with ``fresh``; ``None`` if
    there are none."""
    if not parents:
        return None
    return max(max(p.last_risk if p.last_act is None else p.last_act,
                   fresh_status(p.health, now_ms, horizon_ms) if fresh
                   else p.health.worst() / 2.0) for p in parents)
