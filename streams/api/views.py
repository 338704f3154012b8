"""The read model's parts (``streams/api/model.py``): the bounded log of one kind of event,
one component as the topics describe it, and the filters the queries share. Pure."""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
HISTORY = 720  # risk scores kept per component (12 h of 1-minute windows)
METRIC_POINTS = 180  # per-minute metric points kept per component
HEALTH_RANK = {"PASS": 0, "WARN": 1, "FAIL": 2}


def host_of(component: str) -> str:
    """``web-17/postgres`` → ``web-17``."""
    return component.split("/", 1)[0]


class EventLog:
    """The newest ``maxlen`` events of a kind, numbered from 1 so a reader can ask for what came
    after the last one it saw."""

    def __init__(self, maxlen: int) -> None:
        self.events: deque[Record] = deque(maxlen=maxlen)
        self.total = 0

    def append(self, rec: Record) -> None:
        self.events.append(rec)
        self.total += 1

    def since(self, seq: int, limit: int) -> list[Record]:
        """Events numbered above ``seq`` (those still kept), at most the newest ``limit``."""
        n = min(self.total - max(seq, 0), len(self.events), limit)
        return list(self.events)[-n:] if n > 0 else []

    def __iter__(self) -> Iterator[Record]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)


@dataclass
class ComponentView:
    """One component as the topics describe it."""

    id: str
    risk: Record | None = None
    history: deque[Record] = field(default_factory=lambda: deque(maxlen=HISTORY))
    health: dict[str, Record] = field(default_factory=dict)  # metric -> latest signal
    leases: dict[str, Record] = field(default_factory=dict)  # resource -> lease
    peak: float = 0.0  # highest risk over the last PEAK_S of its event time
    metrics: deque[Record] = field(default_factory=lambda: deque(maxlen=METRIC_POINTS))
    rev: int = 0  # bumped whenever its summary may change
    # (rev, host clock, bytes): its summary as JSON, reused while neither has moved
    cached: tuple[int, int, bytes] | None = None
    updated_ms: int = 0
    # event time of the first ``alarm`` true of the page's current run (None: not firing)
    alarm_since_ms: int | None = None

    def alarm(self) -> bool | None:
        """The latest risk score's page: firing, not, or None (unknown: written before s29 or
        with ``alarm_hold_s`` 0)."""
        return None if self.risk is None else self.risk.get("alarm")

    def health_state(self) -> str:
        """The worst status over its metrics (PASS with none known)."""
        worst = max((HEALTH_RANK.get(h["status"], 0) for h in self.health.values()), default=0)
        return ("PASS", "WARN", "FAIL")[worst]


def alarm_run(previous: Record | None, latest: Record, since_ms: int | None) -> int | None:
    """The event time the page's current run began, ``latest`` being the newest risk score and
    ``previous`` the one it replaces: its own time when it fires after a score that did not
    (or none), ``since_ms`` while it keeps firing, None when it does not fire.

    >>> alarm_run(None, {"ts": 5, "alarm": True}, None), alarm_run({"alarm": True},
    ...     {"ts": 9, "alarm": True}, 5), alarm_run({"alarm": True}, {"ts": 9, "alarm": None}, 5)
    (5, 5, None)
    """
    if latest.get("alarm") is not True:
        return None
    if since_ms is not None and previous is not None and previous.get("alarm") is True:
        return since_ms
    return int(latest["ts"])


def paging_first(view: ComponentView) -> tuple[bool, float, str]:
    """Sort key: pages firing first, then the highest latest risk, then by id."""
    return (view.alarm_since_ms is None, -(view.risk["risk"] if view.risk else -1.0), view.id)


def recent_peak(history: Iterable[Record], window_s: int) -> float:
    """The highest risk within ``window_s`` before the newest record of ``history``."""
    items = list(history)
    if not items:
        return 0.0
    since = items[-1]["ts"] - window_s * 1000
    peak: float = max(r["risk"] for r in items if r["ts"] >= since)
    return peak


def within(ts: int, from_ms: int | None, to_ms: int | None) -> bool:
    return (from_ms is None or ts >= from_ms) and (to_ms is None or ts <= to_ms)


def filtered(events: Iterable[Record], component: str | None = None,
              from_ms: int | None = None, to_ms: int | None = None,
              kind: str | None = None, kind_field: str = "", limit: int = 100) -> list[Record]:
    """The newest ``limit`` events (oldest first) matching a component glob, a time range and
    a value of ``kind_field`` (action or status)."""
    out = [
        e for e in events
        if (component is None or fnmatch.fnmatchcase(e["component"], component))
        and within(e["ts"], from_ms, to_ms)
        and (kind is None or e.get(kind_field) == kind)
    ]
    return out[-limit:] if limit > 0 else []
