"""The simulated fleet's ground truth (when each metric really crossed its FAIL threshold, and
what each incident caused) and the batching of its samples into MetricBatch dicts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from streams.sim.incidents import FAIL_THRESHOLDS, Incident, Scenario

_FAIL_METRICS = tuple(FAIL_THRESHOLDS)


class Truth:
    """The ground-truth half of :class:`~streams.sim.simulator.Fleet`."""

    scenario: Scenario
    _now: int
    _ids: list[str]
    _index: dict[str, int]
    _intervals: dict[tuple[int, int], list[list[int | None]]]
    _dependents: dict[int, set[int]]
    _log: list[dict[str, Any]]

    def ground_truth(self) -> dict[str, Any]:
        """JSON-ready timeline: incidents with actual first breaches, FAIL intervals, commands."""
        comps = {}
        for i, c in enumerate(self.scenario.components):
            fails = {m: [list(iv) for iv in self._intervals[(i, j)]]
                     for j, m in enumerate(_FAIL_METRICS) if (i, j) in self._intervals}
            comps[c.id] = {"host": c.host, "role": c.role, "depends_on": list(c.depends_on),
                           "fail_intervals": fails}
        return {
            "scenario": self.scenario.name, "seed": self.scenario.seed,
            "start_ms": self.scenario.start_ms, "step_s": self.scenario.step_s,
            "now_ms": self._now, "thresholds": dict(FAIL_THRESHOLDS),
            "incidents": [self._incident_truth(inc) for inc in self.scenario.incidents],
            "components": comps, "allocations": [dict(e) for e in self._log],
        }

    def _first_breach(self, i: int, metric: str, lo: int, hi: int) -> int | None:
        for start, end in self._intervals.get((i, _FAIL_METRICS.index(metric)), []):
            if start is not None and start < hi and (end is None or end > lo):
                return max(start, lo)
        return None

    def _incident_truth(self, inc: Incident) -> dict[str, Any]:
        i = self._index[inc.component]
        hi = min(inc.end_ms, self._now + 1)
        affected, todo = [i], [i]
        while todo:  # the component and everything that depends on it, transitively
            for d in sorted(self._dependents[todo.pop()]):
                if d not in affected:
                    affected.append(d)
                    todo.append(d)
        impacts = []
        for j in affected:
            for m in _FAIL_METRICS:
                if (j, m) == (i, inc.metric):
                    continue
                at = self._first_breach(j, m, inc.start_ms, hi)
                if at is not None:
                    impacts.append({"component": self._ids[j], "metric": m,
                                    "threshold": FAIL_THRESHOLDS[m], "breach_ms": at})
        return {
            "kind": inc.kind, "component": inc.component, "metric": inc.metric,
            "threshold": FAIL_THRESHOLDS[inc.metric], "start_ms": inc.start_ms,
            "onset_ms": inc.onset_ms,
            "breach_ms": self._first_breach(i, inc.metric, inc.start_ms, hi),
            "breach_planned_ms": inc.breach_planned_ms, "end_ms": inc.end_ms,
            "impacts": sorted(impacts, key=lambda x: (x["breach_ms"], x["component"])),
        }


def write_ground_truth(fleet: Truth, path: str | Path) -> None:
    """Write ``fleet.ground_truth()`` as JSON to ``path`` (parents created)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(fleet.ground_truth(), indent=1) + "\n", encoding="utf-8")



def to_batches(samples: Iterable[Mapping[str, Any]], per_message: int) -> list[dict[str, Any]]:
    """Group samples into MetricBatch dicts of at most ``per_message`` points each, one
    component (and host, tags) per batch, keeping each component's order."""
    if per_message < 1:
        raise ValueError(f"per_message must be >= 1, got {per_message}")
    open_: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for s in samples:
        tags = s.get("tags") or {}
        b = open_.get(s["component"])
        if b is None or len(b["points"]) >= per_message or b["host"] != s["host"] \
                or b["tags"] != tags:
            b = {"component": s["component"], "host": s["host"], "tags": dict(tags),
                 "points": []}
            open_[s["component"]] = b
            out.append(b)
        b["points"].append({"ts": s["ts"], "metrics": s["metrics"]})
    return out
