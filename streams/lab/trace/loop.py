"""The closed loop over real traces: one component's demand, one policy, every knob value.

Per step ``i`` of a trace (event time ``ts_i``, seconds):

1. the allocation in effect at ``ts_i`` is the latest decision ``j < i`` with
   ``ts_j + delay_s <= ts_i`` (before any: the provisioned capacity) — a decision never acts
   on the step it was made at;
2. the policy learns the step's provisioned size where the trace gives one
   (``Sizer.observe_capacity``: a VM can be resized), observes the sample (``Sizer.observe``:
   demand in absolute units, and the allocation in effect) and decides the next allocation
   (``Sizer.recommend``);
3. ``forewarn`` then gets the risk scores the :class:`Pipeline` gave for that sample (the
   trace's ``MetricSample`` dicts, ``streams.sim.traces.samples``, through the pipeline
   configured as ``forewarn worker`` is): as live, where the worker scores a sample after it
   was shipped, they weigh on the next decision.

The demand at step ``i`` is compared with the allocation in effect at step ``i``. Each step
weighs ``w_i = min(ts_{i+1} - ts_i, step_s)`` seconds (the last: ``step_s``), so a gap in the
trace counts as one step and a denser stretch for its real length.

The pipeline sees demand (absolute, and as a share of the *provisioned* size), never the
allocation, so its output does not depend on the policy: it runs once per component and every
policy and knob reads the same risk scores. Policies observe the usage the trace recorded,
uncapped: a live system would see CPU throttled at its limit and a memory OOM instead
(VPA's OOM rule is modelled: demand over the memory allocation is an OOM).

Pure: event time only, so the same traces, policies and knobs give the same figures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from actuators.rightsize import DEFAULT_KNOB, KNOBS, POLICIES, InEffect, make_sizer
from processors.pipeline import Pipeline, PipelineConfig
from streams.sim.traces import Trace, samples

RESOURCES = ("cpu", "mem")
Record = dict[str, Any]


def risk_by_step(trace: Trace, base: PipelineConfig | None) -> list[list[Record]]:
    """The risk scores the pipeline emits on each sample of ``trace`` (one list per step).
    The pipeline gets the demand metrics; the provisioned sizes go to the sizers (per step,
    ``Sizer.observe_capacity``, as live)."""
    pipe = Pipeline(dataclasses.replace(base) if base is not None else PipelineConfig())
    out: list[list[Record]] = []
    for s in samples(trace):
        metrics = {k: v for k, v in s["metrics"].items() if ".capacity_" not in k}
        out.append(pipe.ingest({**s, "metrics": metrics}).risk)
    return out


def base_size(trace: Trace, resource: str) -> float:
    """The unit of a component's resource-hours: its median positive provisioned size (else
    its largest demand, else 1)."""
    cap = trace.capacity.get(resource)
    if cap is not None and np.any(cap > 0):
        return float(np.median(cap[cap > 0]))
    d = trace.demand[resource]
    return float(d.max()) if d.size and d.max() > 0 else 1.0


def provisioned(trace: Trace, resource: str) -> np.ndarray:
    """The provisioned size per step; a step without one (0 or missing) carries the base."""
    base = base_size(trace, resource)
    cap = trace.capacity.get(resource)
    if cap is None:
        return np.full(len(trace), base)
    return np.where(cap > 0, cap, base)


def weights(trace: Trace) -> np.ndarray:
    """Seconds each step stands for: the gap to the next, at most the trace's step."""
    step = trace.step_s
    w = np.full(len(trace), float(step))
    if len(trace) > 1:
        w[:-1] = np.minimum(np.diff(trace.ts), step)
    return w


def allocations(trace: Trace, policy: str, resource: str, knobs: Sequence[float],
                delay_s: int, risks: Sequence[Sequence[Record]] | None = None,
                options: Mapping[str, Any] | None = None) -> np.ndarray:
    """The allocation in effect at each step, per knob: an array ``(len(knobs), len(trace))``."""
    n, k = len(trace), len(knobs)
    cap = provisioned(trace, resource)
    if policy == "static":  # the trace's own provisioned size, in effect as recorded
        static: np.ndarray = np.asarray(knobs, dtype=np.float64)[:, None] * cap[None, :]
        return static
    sizer = make_sizer(policy, knobs, capacity=float(cap[0]), step_s=trace.step_s,
                       delay_s=delay_s, resource=resource, **dict(options or {}))
    demand = trace.demand[resource]
    ts = trace.ts
    out = np.empty((k, n))
    timing = InEffect(np.full(k, float(cap[0])), delay_s)
    raw = trace.capacity.get(resource)  # as live: a step without a provisioned size keeps it
    given = np.zeros(n) if raw is None else np.where(raw > 0, raw, 0.0)
    for i in range(n):
        t = int(ts[i])
        effect = timing.at(t)
        out[:, i] = effect
        sizer.observe_capacity(t, float(given[i]))
        sizer.observe(t, float(demand[i]), effect)
        timing.decide(t, sizer.recommend(t))
        if risks is not None:  # the worker scores a sample after it is shipped: next decision
            for r in risks[i]:
                sizer.on_risk(r)
    return out


def figures(demand: np.ndarray, alloc: np.ndarray, w: np.ndarray, base: float) -> Record:
    """Sums per knob (rows of ``alloc``) that aggregate over components: seconds in violation,
    weighted allocation, use (capped at the allocation), demand and shortfall, all also in
    units of the component's ``base`` size."""
    over = demand[None, :] > alloc
    used = np.minimum(demand[None, :], alloc)
    return {
        "violation_s": (over * w).sum(axis=1),
        "alloc": (alloc * w).sum(axis=1),
        "used": (used * w).sum(axis=1),
        "demand": np.full(alloc.shape[0], float((demand * w).sum())),
        "unmet": (np.maximum(demand[None, :] - alloc, 0.0) * w).sum(axis=1),
        "base": base,
        "over": over,
    }


def run_component(trace: Trace, policies: Sequence[str], knobs: Mapping[str, Sequence[float]],
                  delay_s: int, base: PipelineConfig | None,
                  options: Mapping[str, Mapping[str, Any]] | None = None) -> Record:
    """One component under every policy and knob: per policy, per knob, per resource the sums
    of :func:`figures` (plain lists) and the seconds in violation of any resource."""
    risks = risk_by_step(trace, base) if "forewarn" in policies else None
    w = weights(trace)
    out: Record = {"component": trace.component, "steps": len(trace), "step_s": trace.step_s,
                   "hours": float(w.sum() / 3600.0), "policies": {}}
    for policy in policies:
        ks = list(knobs[policy])
        per: Record = {"knobs": ks}
        any_over = np.zeros((len(ks), len(trace)), dtype=bool)
        for res in RESOURCES:
            alloc = allocations(trace, policy, res, ks, delay_s,
                                risks if policy == "forewarn" else None,
                                (options or {}).get(policy))
            f = figures(trace.demand[res], alloc, w, base_size(trace, res))
            any_over |= f.pop("over")
            per[res] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in f.items()}
        per["violation_s_any"] = (any_over * w).sum(axis=1).tolist()
        out["policies"][policy] = per
    return out


def knob_grid(policies: Sequence[str], sweep: bool,
              fixed: Mapping[str, float] | None = None) -> dict[str, list[float]]:
    """Each policy's knob values: its default (or ``fixed``) first, then, with ``sweep``, the
    rest of its sweep (sorted)."""
    grid: dict[str, list[float]] = {}
    for p in policies:
        default = float((fixed or {}).get(p, DEFAULT_KNOB[p]))
        values = [default]
        if sweep:
            values += sorted(v for v in KNOBS[p][2] if v != default)
        grid[p] = values
    return grid


__all__ = ["POLICIES", "RESOURCES", "allocations", "base_size", "figures", "knob_grid",
           "provisioned", "risk_by_step", "run_component", "weights"]
