"""Figures of the trace backtest, summed over components (definitions in docs/closedloop.md):

* ``violation_minutes`` — minutes in which demand exceeded the allocation in effect (each step
  weighs its length, at most the trace's step); in ``total``, minutes in which any resource did;
* ``unmet_demand_pct`` — the shortfall ``max(demand - allocation, 0)`` over time, as a % of all
  demand over time (``total``: both resources, each in units of the component's size);
* ``slack`` — ``(allocated - used) / allocated`` over time and components, ``used`` being the
  demand capped at the allocation (Autopilot's "limit minus usage, over the limit"); per
  resource in its absolute unit (capacity-weighted), in ``total`` in units of each
  component's provisioned size;
* ``resource_hours`` — allocation x hours in units of the component's provisioned size (a
  component left at its size costs 1 per hour per resource), and ``resource_hours_vs_static``.

``matched.<peer>.<resource>``: the peer at its default knob (slack ``s``, violation minutes
``v``) and forewarn's curve read at ``s`` (linear interpolation between its two nearest
efficient knob points — dominated ones left out, see ``_curve``; beyond its last point the
last point's minutes, since allocating more never adds a violation minute (session 18);
``None`` when ``s`` is below the slack forewarn's knobs span, with the range given).
``dominance.<peer>.<resource>``: forewarn's and the peer's curves compared at every slack in
[20 %, 80 %] that both reach, each read flat beyond its last point (41 points): the largest
ratio forewarn / peer. ``matched_strict`` / ``dominance_strict``: the reading until session
18, ``None`` beyond a curve's last point too (both given side by side)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from actuators.rightsize import KNOBS, POLICIES
from processors.pipeline import PipelineConfig
from streams.lab.trace.loop import RESOURCES, knob_grid, run_component
from streams.sim.traces import Trace, load_traces, window

Record = dict[str, Any]


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else 0.0


def _resource(entries: Sequence[Mapping[str, Any]], k: int) -> Record:
    """One resource's figures at knob index ``k``, summed over ``entries`` (per component)."""
    alloc = sum(e["alloc"][k] for e in entries)
    used = sum(e["used"][k] for e in entries)
    return {
        "violation_minutes": float(sum(e["violation_s"][k] for e in entries) / 60.0),
        "unmet_demand_pct": 100.0 * _ratio(sum(e["unmet"][k] for e in entries),
                                           sum(e["demand"][k] for e in entries)),
        "slack": _ratio(alloc - used, alloc),
        "resource_hours": float(sum(e["alloc"][k] / e["base"] for e in entries) / 3600.0),
    }


def _total(runs: Sequence[Mapping[str, Any]], policy: str, k: int) -> Record:
    per = [r["policies"][policy] for r in runs]
    alloc = sum(p[res]["alloc"][k] / p[res]["base"] for p in per for res in RESOURCES)
    used = sum(p[res]["used"][k] / p[res]["base"] for p in per for res in RESOURCES)
    unmet = sum(p[res]["unmet"][k] / p[res]["base"] for p in per for res in RESOURCES)
    demand = sum(p[res]["demand"][k] / p[res]["base"] for p in per for res in RESOURCES)
    return {"violation_minutes": float(sum(p["violation_s_any"][k] for p in per) / 60.0),
            "unmet_demand_pct": 100.0 * _ratio(unmet, demand),
            "slack": _ratio(alloc - used, alloc),
            "resource_hours": float(alloc / 3600.0)}


def summarise(runs: Sequence[Mapping[str, Any]], policies: Sequence[str],
              per_vm: bool = True) -> Record:
    """Per policy: ``total``, ``cpu``, ``mem`` at its default knob (the first of its grid),
    its ``curve`` over every knob value, and (``per_vm``) ``vms.<component>``."""
    out: Record = {}
    for policy in policies:
        knobs = runs[0]["policies"][policy]["knobs"]
        entries = {res: [r["policies"][policy][res] for r in runs] for res in RESOURCES}
        entry: Record = {"knob": {"name": KNOBS[policy][0], "default": knobs[0]},
                         "total": _total(runs, policy, 0)}
        for res in RESOURCES:
            entry[res] = _resource(entries[res], 0)
        curve = []
        for k in sorted(range(len(knobs)), key=lambda i: knobs[i]):
            point: Record = {"knob": knobs[k]}
            for res in RESOURCES:
                f = _resource(entries[res], k)
                point[res] = {"violation_minutes": f["violation_minutes"], "slack": f["slack"]}
            curve.append(point)
        entry["curve"] = curve
        if per_vm:
            entry["vms"] = {r["component"]: {"total": _total([r], policy, 0),
                                             **{res: _resource([r["policies"][policy][res]], 0)
                                                for res in RESOURCES}}
                            for r in runs}
            entry["distribution"] = distribution(entry["vms"])
        out[policy] = entry
    if "static" in out:
        for entry in out.values():
            for key in ("total", *RESOURCES):
                ref = out["static"][key]["resource_hours"]
                entry[key]["resource_hours_vs_static"] = _ratio(entry[key]["resource_hours"],
                                                                ref)
    return out


def distribution(vms: Mapping[str, Mapping[str, Any]]) -> Record:
    """Per resource and figure, the per-component quantiles (p10, p50, p90, max)."""
    out: Record = {}
    for res in ("total", *RESOURCES):
        out[res] = {}
        for fig in ("violation_minutes", "unmet_demand_pct", "slack"):
            vals = np.asarray([v[res][fig] for v in vms.values()], dtype=np.float64)
            out[res][fig] = {"p10": float(np.quantile(vals, 0.1)),
                             "p50": float(np.quantile(vals, 0.5)),
                             "p90": float(np.quantile(vals, 0.9)), "max": float(vals.max())}
    return out


def _curve(entry: Mapping[str, Any], res: str) -> tuple[np.ndarray, np.ndarray]:
    """The curve's efficient points, by slack: a knob value that another beats on both
    counts (less slack *and* fewer violation minutes) is one no user would pick, and is left
    out of every reading (it stays in ``curve``). At one slack only the fewest minutes count;
    a point with as few minutes as another at more slack is kept (a flat stretch: a user
    with that capacity to spare gets those minutes)."""
    pts = sorted((p[res]["slack"], p[res]["violation_minutes"]) for p in entry["curve"])
    keep: list[tuple[float, float]] = []
    for s, v in pts:
        beaten = any((s2 < s and v2 < v) or (s2 == s and v2 < v) for s2, v2 in pts)
        if not beaten and (s, v) not in keep:
            keep.append((s, v))
    return np.asarray([p[0] for p in keep]), np.asarray([p[1] for p in keep])


def read_curve(entry: Mapping[str, Any], res: str, slack: float,
               flat_end: bool = False) -> float | None:
    """The curve's violation minutes at ``slack`` (linear between knob points), or None
    outside the slack its knobs span; with ``flat_end``, beyond its last (highest-slack)
    point the curve reads that point's minutes: allocating more never adds a violation
    minute, so a point bounds the curve at any higher slack (below its first: None)."""
    xs, ys = _curve(entry, res)
    if xs.size == 0 or slack < xs[0] - 1e-12 or (slack > xs[-1] + 1e-12 and not flat_end):
        return None
    return float(np.interp(slack, xs, ys))


def matched(by_policy: Mapping[str, Mapping[str, Any]], ours: str = "forewarn",
            flat_end: bool = False) -> Record:
    """The matched-slack table (module docstring), per peer and resource."""
    out: Record = {}
    if ours not in by_policy:
        return out
    for peer, entry in by_policy.items():
        if peer == ours:
            continue
        out[peer] = {}
        for res in RESOURCES:
            s, v = entry[res]["slack"], entry[res]["violation_minutes"]
            fw = read_curve(by_policy[ours], res, s, flat_end)
            xs, _ = _curve(by_policy[ours], res)
            out[peer][res] = {
                "slack": s, "peer_violation_minutes": v, "forewarn_violation_minutes": fw,
                "ratio": None if fw is None or v <= 0 else fw / v,
                "met": None if fw is None else bool(fw <= 0.5 * v),
                "forewarn_slack_range": [float(xs[0]), float(xs[-1])],
            }
    return out


def dominance(by_policy: Mapping[str, Mapping[str, Any]], ours: str = "forewarn",
              lo: float = 0.2, hi: float = 0.8, flat_end: bool = False) -> Record:
    """Where both curves reach a slack in [lo, hi]: the largest forewarn / peer ratio of
    violation minutes over 41 evenly spaced slack levels, and whether forewarn is below
    (``flat_end``: each curve reaches every slack above its first point, see
    :func:`read_curve`)."""
    out: Record = {}
    if ours not in by_policy:
        return out
    for peer, entry in by_policy.items():
        if peer == ours:
            continue
        out[peer] = {}
        for res in RESOURCES:
            fx, fy = _curve(by_policy[ours], res)
            px, py = _curve(entry, res)
            a, b = max(lo, fx[0], px[0]), (hi if flat_end else min(hi, fx[-1], px[-1]))
            if a > b:
                out[peer][res] = {"overlap": None, "below": None, "worst_ratio": None}
                continue
            grid = np.linspace(a, b, 41)
            f, p = np.interp(grid, fx, fy), np.interp(grid, px, py)
            ratios = np.where(p > 0, f / np.maximum(p, 1e-12), np.where(f > 0, np.inf, 0.0))
            out[peer][res] = {"overlap": [float(a), float(b)],
                              "below": bool(np.all(f <= p + 1e-9)),
                              "worst_ratio": float(ratios.max())}
    return out


def backtest_trace(data: str | Trace | Sequence[Trace], policies: Sequence[str] = POLICIES,
                   delay_s: int = 300, sweep: bool | None = None,
                   knobs: Mapping[str, float] | None = None, jobs: int = 1,
                   base: PipelineConfig | None = None, components: Sequence[str] | None = None,
                   options: Mapping[str, Mapping[str, Any]] | None = None,
                   per_vm: bool = True, start: int | None = None,
                   end: int | None = None) -> Record:
    """The whole backtest: traces from ``data`` (a directory, a file, or traces), every policy
    at its default knob (``knobs`` overrides one) and, with ``sweep`` (default: when more than
    one policy runs), over its knob sweep; JSON-ready. ``start`` / ``end`` (Unix seconds) cut
    each trace to ``start <= ts < end`` first (``streams.sim.traces.window``): every policy
    starts cold there; the result then carries ``window``."""
    from streams.lab.backtest import pmap

    bad = [p for p in policies if p not in POLICIES]
    if bad:
        raise ValueError(f"unknown policies {bad}; known: {', '.join(POLICIES)}")
    traces: list[Trace]
    if isinstance(data, str):
        traces = load_traces(data, components, start, end)
    else:
        given = [data] if isinstance(data, Trace) else list(data)
        traces = [w for w in (window(t, start, end) for t in given) if w is not None]
    sweep = len(policies) > 1 if sweep is None else sweep
    grid = knob_grid(policies, sweep, knobs)
    cfg = dataclasses.replace(base) if base is not None else PipelineConfig()
    # the longest traces first, so that the processes end together; the runs in trace order
    order = sorted(range(len(traces)), key=lambda i: -len(traces[i]))
    tasks = [(traces[i], list(policies), grid, int(delay_s), cfg, dict(options or {}))
             for i in order]
    done = dict(zip(order, pmap(run_component, tasks, jobs), strict=True))
    runs = [done[i] for i in range(len(traces))]
    result = result_of(runs, policies, delay_s, grid, per_vm)
    if start is not None or end is not None:
        result["window"] = {"start": start, "end": end}
    return result


def readings(by_policy: Mapping[str, Mapping[str, Any]]) -> Record:
    """``matched`` and ``dominance`` read flat beyond a curve's end, and both strictly."""
    return {"matched": matched(by_policy, flat_end=True),
            "dominance": dominance(by_policy, flat_end=True),
            "matched_strict": matched(by_policy), "dominance_strict": dominance(by_policy)}


def folds(runs: Sequence[Mapping[str, Any]], policies: Sequence[str]) -> Record:
    """The components split in two halves, in order (VMs 1-50 and 51-100 of the shared
    subset): each half's matched-slack table, curve comparison and default-knob figures."""
    half = (len(runs) + 1) // 2
    out: Record = {}
    for part in (runs[:half], runs[half:]):
        if not part:
            continue
        key = f"{part[0]['component']}..{part[-1]['component']}"
        by = summarise(part, policies, per_vm=False)
        out[key] = {"components": len(part),
                    "policies": {p: {k: e[k] for k in ("total", "cpu", "mem", "curve")}
                                 for p, e in by.items()},
                    **readings(by)}
    return out


def result_of(runs: Sequence[Mapping[str, Any]], policies: Sequence[str], delay_s: int,
              grid: Mapping[str, Sequence[float]], per_vm: bool = True) -> Record:
    """The JSON object from the per-component sums of :func:`run_component`."""
    by_policy = summarise(runs, policies, per_vm)
    return {
        "components": len(runs),
        "steps": int(sum(r["steps"] for r in runs)),
        "hours": float(sum(r["hours"] for r in runs)),
        "delay_s": int(delay_s),
        "step_s": int(np.median([r["step_s"] for r in runs])),
        "policies_run": list(policies),
        "knobs": grid,
        "policies": by_policy,
        **readings(by_policy),
        "folds": folds(runs, policies) if len(runs) > 1 else {},
        "runs": list(runs),
    }
