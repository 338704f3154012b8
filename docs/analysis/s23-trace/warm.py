"""Warm against cold on the same steps: each VM's steps from SPLIT on, sized (a) by policies
that ran on the whole trace (warm: what a deployment running since the trace's start did) and
(b) by policies that start cold at SPLIT (what `backtest trace --start SPLIT` runs). Written in
`runs.json` form (OUT/warm, OUT/cold; `trace.json` too, so `table.py` and `attrib.py` read
them); the cold runs equal `--start SPLIT`'s per VM (checked by `--check DIR`).

python docs/analysis/s23-trace/warm.py OUT SPLIT VMS [--policies p,q] [--jobs N] [--check DIR]
    [--res mem]
(SPLIT: as `--start`; VMS: 51-100 or 3,8,56; default policies: all five; `--res mem`: the warm
runs of memory alone, OUT/warm/runs.json only, read by `warmcell.py`)"""
import json
import sys
from pathlib import Path

import numpy as np

from actuators.rightsize import POLICIES
from streams.lab.backtest import pmap, write_json
from streams.lab.trace.loop import (
    RESOURCES,
    allocations,
    base_size,
    figures,
    knob_grid,
    risk_by_step,
    run_component,
    weights,
)
from streams.lab.trace.summary import result_of
from streams.sim.traces import load_traces, parse_time, window

DATA = "../shared/data/bitbrains/rnd"


def warm_run(trace, split: int, policies, grid, resources=RESOURCES) -> dict:
    """run_component's sums over the steps at or after ``split``, the policies having run
    from the trace's first step (weights and size unit those of the cut trace)."""
    cut = window(trace, split, None)
    i0 = trace.ts.size - cut.ts.size
    risks = risk_by_step(trace, None) if "forewarn" in policies else None
    w = weights(cut)
    out = {"component": trace.component, "steps": len(cut), "step_s": cut.step_s,
           "hours": float(w.sum() / 3600.0), "policies": {}}
    for policy in policies:
        ks = list(grid[policy])
        per: dict = {"knobs": ks}
        any_over = np.zeros((len(ks), len(cut)), dtype=bool)
        for res in resources:
            alloc = allocations(trace, policy, res, ks, 300,
                                risks if policy == "forewarn" else None)[:, i0:]
            f = figures(cut.demand[res], alloc, w, base_size(cut, res))
            any_over |= f.pop("over")
            per[res] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in f.items()}
        per["violation_s_any"] = (any_over * w).sum(axis=1).tolist()
        out["policies"][policy] = per
    return out


def both(trace, split: int, policies, grid, resources) -> tuple[dict, dict | None]:
    if tuple(resources) != RESOURCES:  # warm only, on these resources (--res)
        return warm_run(trace, split, policies, grid, resources), None
    cold = run_component(window(trace, split, None), policies, grid, 300, None)
    return warm_run(trace, split, policies, grid), cold


def vms(spec: str) -> list[str]:
    if "-" in spec:
        a, b = map(int, spec.split("-"))
        return [f"2013-7/{i}" for i in range(a, b + 1)]
    return [f"2013-7/{i}" for i in spec.split(",")]


def main(argv: list[str]) -> None:
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    out, split = Path(argv[0]), parse_time(argv[1])
    policies = opts.get("--policies", ",".join(POLICIES)).split(",")
    grid = knob_grid(policies, True)
    resources = tuple(opts.get("--res", ",".join(RESOURCES)).split(","))
    traces = [t for t in load_traces(DATA, vms(argv[2])) if t.ts[-1] >= split]
    order = sorted(range(len(traces)), key=lambda i: -len(traces[i]))
    tasks = [(traces[i], split, policies, grid, resources) for i in order]
    done = dict(zip(order, pmap(both, tasks, int(opts.get("--jobs", 1))), strict=True))
    if resources != RESOURCES:
        write_json(out / "warm" / "runs.json", [done[i][0] for i in range(len(traces))])
        return
    for j, name in enumerate(("warm", "cold")):
        runs = [done[i][j] for i in range(len(traces))]
        write_json(out / name / "runs.json", runs)
        result = result_of(runs, policies, 300, grid, False)
        result.pop("runs")
        write_json(out / name / "trace.json", result)
    if "--check" in opts:
        ref = {r["component"]: r for r in json.loads((Path(opts["--check"]) /
                                                      "runs.json").read_text())}
        cold = [done[i][1] for i in range(len(traces))]
        bad = [r["component"] for r in cold
               if json.dumps(r, sort_keys=True) != json.dumps(
                   {**ref[r["component"]], "policies": {p: ref[r["component"]]["policies"][p]
                                                        for p in policies}}, sort_keys=True)]
        print("cold runs equal the reference's:", "all" if not bad else f"not {bad}")


if __name__ == "__main__":
    main(sys.argv[1:])
