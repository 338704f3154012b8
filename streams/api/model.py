"""The API's read model: what the topics say now, materialised in memory (pure, no I/O).

:class:`ReadModel` takes decoded events (``apply(event_type, record)``) in the order a consumer
reads them and keeps, per component, the latest risk, health per metric and the leases held, plus
a bounded history of risk scores; and fleet-wide, the latest allocation commands, outcomes and
dead letters (bounded), and the preferences in force. "Now" is event time, never the wall
clock, so a replayed topic gives the same answers; and each host's clock is its own (a host
shipping wall-clock samples beside a simulated fleet in simulated time moves neither's leases):
a lease is held while ``until_ms`` is ahead of the newest event time of its host. Each
component's page (RiskScore's ``alarm``; None: unknown) is its latest score's, with the event
time its current run began (``alarm_since_ms``), and ``paging`` holds those firing. With
``metrics`` followed too, each component keeps a per-minute series of the metrics that have a
health rule (last value per minute, ``METRIC_POINTS`` minutes), for plotting against thresholds.

Leases are derived from the commands: a GRANT sets the lease of (component, resource) to its
amount until ``ts + lease_s``; RELEASE or PREEMPT ends it, and so does an outcome FAILED,
DEFERRED or REJECTED of the grant that made it.

>>> m = ReadModel()
>>> m.apply("RiskScore", {"component": "web-1", "ts": 60_000, "risk": 0.7, "anomaly": 0.1,
...     "horizon_s": 900, "breach": None, "forecasts": [], "contributors": {},
...     "model": {"version": "1", "samples_seen": 5, "warm": True, "source": "component"}})
>>> [c["id"] for c in m.components(min_risk=0.5)]
['web-1']
"""

from __future__ import annotations

import fnmatch
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from streams.api.views import (
    HEALTH_RANK,
    HISTORY,
    METRIC_POINTS,
    ComponentView,
    EventLog,
    Record,
    alarm_run,
    filtered,
    host_of,
    recent_peak,
    within,
)

__all__ = ["HEALTH_RANK", "HISTORY", "METRIC_POINTS", "ComponentView", "EventLog", "ReadModel",
           "host_of", "recent_peak"]
KEEP_EVENTS = 5_000  # allocation commands, outcomes and dead letters kept, each
ENDED_BY_OUTCOME = ("FAILED", "DEFERRED", "REJECTED", "PREEMPTED", "EXPIRED", "REVERTED")
PEAK_S = 900  # the "recent peak" looks back this far in event time


@dataclass
class ReadModel:
    """Latest state per component plus bounded histories; see the module docstring."""

    history: int = HISTORY
    keep_events: int = KEEP_EVENTS
    components_: dict[str, ComponentView] = field(default_factory=dict)
    allocations_: EventLog = field(init=False)
    outcomes_: EventLog = field(init=False)
    deadletters_: EventLog = field(init=False)
    risks_: EventLog = field(init=False)  # every component's, for the live feed
    preferences: dict[str, Record] = field(default_factory=dict)
    feedback_: EventLog = field(init=False)
    now_ms: int = 0  # newest event time seen (any host)
    host_ms: dict[str, int] = field(default_factory=dict)  # newest event time per host
    # metrics kept in the per-minute series (None: all of them)
    plotted: frozenset[str] | None = None
    version: int = 0  # bumped by every change, for the live feed
    grants: dict[str, tuple[str, str]] = field(default_factory=dict)  # command_id -> lease key
    # command ids whose outcome ended them, for a command read after its outcome (two topics,
    # no order between them)
    ended: dict[str, None] = field(default_factory=dict)
    _sorted: list[str] = field(default_factory=list, repr=False)
    holding: set[str] = field(default_factory=set, repr=False)  # components that held a lease
    paging: set[str] = field(default_factory=set)  # components whose page fires now
    # the full list as JSON, kept up to date piecewise: one entry per sorted id
    _dirty: set[str] = field(default_factory=set, repr=False)
    _parts: list[bytes] = field(default_factory=list, repr=False)
    _pos: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.allocations_ = EventLog(self.keep_events)
        self.outcomes_ = EventLog(self.keep_events)
        self.deadletters_ = EventLog(self.keep_events)
        self.risks_ = EventLog(self.keep_events)
        self.feedback_ = EventLog(self.keep_events)

    # -- writing ---------------------------------------------------------------------------

    def component(self, cid: str) -> ComponentView:
        view = self.components_.get(cid)
        if view is None:
            view = self.components_[cid] = ComponentView(cid, history=deque(maxlen=self.history))
        return view

    def apply(self, event_type: str, record: Mapping[str, Any], key: str | None = None) -> None:
        """Take one decoded event (``key``: the message key, for preference tombstones)."""
        rec = dict(record)
        ts = int(rec.get("ts") or 0)
        # preferences and feedback carry wall-clock times: they move no event-time clock
        if "component" in rec and event_type != "Feedback":
            self.now_ms = max(self.now_ms, ts)
            host = host_of(rec["component"])
            if ts > self.host_ms.get(host, 0):
                self.host_ms[host] = ts
        handler = getattr(self, f"_on_{event_type}", None)
        if handler is not None:
            handler(rec)
            self.version += 1

    def tombstone(self, selector: str) -> None:
        """A preference withdrawn (a null value on the compacted topic)."""
        if self.preferences.pop(selector, None) is not None:
            self.version += 1

    def _on_RiskScore(self, rec: Record) -> None:  # noqa: N802 - event type names
        view = self.component(rec["component"])
        if view.risk is None or rec["ts"] >= view.risk["ts"]:
            view.alarm_since_ms = alarm_run(view.risk, rec, view.alarm_since_ms)
            view.risk = rec
            (self.paging.discard if view.alarm_since_ms is None else self.paging.add)(view.id)
        view.history.append(rec)
        self._touch(view)
        self.risks_.append(rec)
        view.peak = recent_peak(view.history, PEAK_S)
        view.updated_ms = max(view.updated_ms, rec["ts"])

    def _on_MetricSample(self, rec: Record) -> None:  # noqa: N802
        self._point(self.component(rec["component"]), rec["ts"], rec["metrics"])

    def _on_MetricBatch(self, rec: Record) -> None:  # noqa: N802
        view = self.component(rec["component"])
        newest = 0
        for point in rec["points"]:
            self._point(view, point["ts"], point["metrics"])
            newest = max(newest, point["ts"])
        host = host_of(rec["component"])
        if newest > self.host_ms.get(host, 0):
            self.host_ms[host] = newest
        self.now_ms = max(self.now_ms, newest)

    def _point(self, view: ComponentView, ts: int, metrics: Mapping[str, float]) -> None:
        values = {k: v for k, v in metrics.items()
                  if self.plotted is None or k in self.plotted}
        if not values:
            return
        minute = ts - ts % 60_000
        if view.metrics and view.metrics[-1]["ts"] == minute:
            view.metrics[-1]["values"].update(values)
        elif not view.metrics or minute > view.metrics[-1]["ts"]:
            view.metrics.append({"ts": minute, "values": values})

    def _on_HealthSignal(self, rec: Record) -> None:  # noqa: N802
        view = self.component(rec["component"])
        old = view.health.get(rec["metric"])
        if old is None or rec["ts"] >= old["ts"]:
            view.health[rec["metric"]] = rec
            self._touch(view)
        view.updated_ms = max(view.updated_ms, rec["ts"])

    def _on_AllocationCommand(self, rec: Record) -> None:  # noqa: N802
        self.allocations_.append(rec)
        view = self.component(rec["component"])
        self._touch(view)
        if rec["action"] == "GRANT" and rec["command_id"] in self.ended:
            pass  # its outcome came first and ended it
        elif rec["action"] == "GRANT":
            view.leases[rec["resource"]] = {
                "resource": rec["resource"], "amount": rec["amount"], "unit": rec["unit"],
                "since_ms": rec["ts"], "until_ms": rec["ts"] + rec["lease_s"] * 1000,
                "command_id": rec["command_id"], "reason": rec["reason"],
            }
            self.grants[rec["command_id"]] = (rec["component"], rec["resource"])
            self.holding.add(rec["component"])
            if len(self.grants) > 4 * self.keep_events:  # oldest first: dicts keep order
                del self.grants[next(iter(self.grants))]
        else:  # RELEASE, PREEMPT
            view.leases.pop(rec["resource"], None)

    def _on_AllocationOutcome(self, rec: Record) -> None:  # noqa: N802
        self.outcomes_.append(rec)
        if rec["status"] in ENDED_BY_OUTCOME:
            self.ended[rec["command_id"]] = None
            if len(self.ended) > 4 * self.keep_events:
                del self.ended[next(iter(self.ended))]
        if rec["status"] in ENDED_BY_OUTCOME and rec["command_id"] in self.grants:
            comp, resource = self.grants.pop(rec["command_id"])
            lease = self.component(comp).leases.get(resource)
            if lease is not None and lease["command_id"] == rec["command_id"]:
                del self.component(comp).leases[resource]
                self._touch(self.component(comp))

    def _on_Preference(self, rec: Record) -> None:  # noqa: N802
        self.preferences[rec["selector"]] = rec

    def _on_DeadLetter(self, rec: Record) -> None:  # noqa: N802
        rec = {k: v for k, v in rec.items() if k not in ("original", "key")}
        self.deadletters_.append(rec)

    def _on_Feedback(self, rec: Record) -> None:  # noqa: N802
        self.feedback_.append(rec)

    # -- reading ---------------------------------------------------------------------------

    def leases_now(self, view: ComponentView) -> list[Record]:
        """Leases of ``view`` not yet ended at the model's event time."""
        now = self.host_ms.get(host_of(view.id), self.now_ms)
        return [dict(lease) for lease in view.leases.values() if lease["until_ms"] > now]

    def summary(self, view: ComponentView) -> Record:
        """One component as ``GET /v1/components`` lists it."""
        r = view.risk
        return {
            "id": view.id,
            "host": host_of(view.id),
            "ts": r["ts"] if r else None,
            "risk": r["risk"] if r else None,
            "peak_risk": view.peak if r else None,
            "anomaly": r["anomaly"] if r else None,
            "horizon_s": r["horizon_s"] if r else None,
            "breach": r["breach"] if r else None,
            "alarm": view.alarm(),
            "alarm_since_ms": view.alarm_since_ms,
            "health": view.health_state(),
            "health_metrics": {m: {"status": h["status"], "value": h["value"],
                                   "threshold": h["threshold"]}
                               for m, h in sorted(view.health.items())},
            "leases": self.leases_now(view),
            "model": r["model"] if r else None,
        }

    def _touch(self, view: ComponentView) -> None:
        view.rev += 1
        self._dirty.add(view.id)

    def all_json(self) -> bytes:
        """Every component as a JSON array: only those changed since the previous call (and
        those holding leases, whose end depends on their host's clock) are encoded again."""
        ids = self.sorted_ids()
        if len(self._parts) != len(ids):
            self._pos = {cid: i for i, cid in enumerate(ids)}
            self._parts = [self.summary_json(self.components_[cid]) for cid in ids]
        else:
            for cid in self._dirty:
                self._parts[self._pos[cid]] = self.summary_json(self.components_[cid])
            for cid in self._leased():
                self._parts[self._pos[cid]] = self.summary_json(self.components_[cid])
        self._dirty.clear()
        return b"[" + b",".join(self._parts) + b"]"

    def _leased(self) -> list[str]:
        return [cid for cid in self.holding if self.components_[cid].leases]

    def summary_json(self, view: ComponentView) -> bytes:
        """:meth:`summary` as JSON, cached until the component changes (or, while it holds a
        lease, until its host's clock moves): listing 10,000 components joins bytes."""
        clock = self.host_ms.get(host_of(view.id), self.now_ms) if view.leases else 0
        c = view.cached
        if c is not None and c[0] == view.rev and c[1] == clock:
            return c[2]
        data = orjson.dumps(self.summary(view))
        view.cached = (view.rev, clock, data)
        return data

    def components_json(self, host: str | None = None, glob: str | None = None,
                        min_risk: float | None = None, limit: int | None = None,
                        alarm: bool | None = None) -> bytes:
        """:meth:`components` as a JSON array."""
        if host is None and glob is None and min_risk is None and alarm is None and (
                limit is None or limit >= len(self.components_)):
            return self.all_json()
        parts = []
        for view in self._select(host, glob, min_risk, limit, alarm):
            c = view.cached  # the common case inline: unchanged and holding no lease
            if c is not None and c[0] == view.rev and not view.leases:
                parts.append(c[2])
            else:
                parts.append(self.summary_json(view))
        return b"[" + b",".join(parts) + b"]"

    def _select(self, host: str | None, glob: str | None, min_risk: float | None,
                limit: int | None, alarm: bool | None = None) -> list[ComponentView]:
        if host is None and glob is None and min_risk is None and alarm is None:
            views = [self.components_[cid] for cid in self.sorted_ids()]
            return views if limit is None else views[:limit]
        out = []
        match = None if glob is None else re.compile(fnmatch.translate(glob)).match
        # pages firing: only those (a few), not every component
        for cid in sorted(self.paging) if alarm else self.sorted_ids():
            if host is not None and host_of(cid) != host:
                continue
            if match is not None and not match(cid):
                continue
            view = self.components_[cid]
            if min_risk is not None and (view.risk is None or view.risk["risk"] < min_risk):
                continue
            if alarm is not None and view.alarm() != alarm:  # unknown (None) matches neither
                continue
            out.append(view)
            if limit is not None and len(out) >= limit:
                break
        return out

    def sorted_ids(self) -> list[str]:
        """Component ids in order, sorted again only when one was added."""
        if len(self._sorted) != len(self.components_):
            self._sorted = sorted(self.components_)
        return self._sorted

    def components(self, host: str | None = None, glob: str | None = None,
                   min_risk: float | None = None, limit: int | None = None,
                   alarm: bool | None = None) -> list[Record]:
        """Components by id, filtered by host (exact), id glob (fnmatch), minimum risk and the
        page (``alarm``: True firing, False known not firing; unknown matches neither)."""
        return [self.summary(v) for v in self._select(host, glob, min_risk, limit, alarm)]

    def risk_history(self, cid: str, from_ms: int | None = None,
                     to_ms: int | None = None) -> list[Record] | None:
        """The risk scores kept for ``cid`` with ``from_ms <= ts <= to_ms`` (None: unknown)."""
        view = self.components_.get(cid)
        if view is None:
            return None
        return [r for r in view.history if within(r["ts"], from_ms, to_ms)]

    def health_history(self, cid: str) -> list[Record]:
        view = self.components_.get(cid)
        return [] if view is None else sorted(view.health.values(), key=lambda h: h["metric"])

    def allocations(self, **filters: Any) -> list[Record]:
        return filtered(self.allocations_, **filters)

    def outcomes(self, **filters: Any) -> list[Record]:
        return filtered(self.outcomes_, **filters)

    def deadletters(self, limit: int = 100) -> list[Record]:
        return list(self.deadletters_)[-limit:]

    def heatmap(self, buckets: int = 60, bucket_s: int = 60,
                components: Iterable[str] | None = None) -> Record:
        """Risk per component and time bucket (max in the bucket; None where nothing came):
        the last ``buckets`` buckets up to its host's newest event time (each host's clock is
        its own, so rows line up on "minutes before now", each in its own time)."""
        ids = sorted(self.components_) if components is None else list(components)
        rows = []
        width = bucket_s * 1000
        for cid in ids:
            view = self.components_.get(cid)
            if view is None or view.risk is None:
                continue
            newest: int = view.risk["ts"]
            now = self.host_ms.get(host_of(cid), newest)
            end = now - now % width + width
            start = end - buckets * width
            row: list[float | None] = [None] * buckets
            for r in view.history:
                if start <= r["ts"] < end:
                    i = (r["ts"] - start) // width
                    row[i] = max(row[i] or 0.0, r["risk"])
            rows.append({"id": cid, "end_ms": end, "risk": row})
        return {"bucket_s": bucket_s, "rows": rows}

    def metric_series(self, cid: str, from_ms: int | None = None,
                      to_ms: int | None = None) -> list[Record]:
        view = self.components_.get(cid)
        if view is None:
            return []
        return [p for p in view.metrics if within(p["ts"], from_ms, to_ms)]
