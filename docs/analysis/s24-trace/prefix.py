"""The full command and its days-0-15 window in one pass: each VM's whole trace runs once under
every policy (as `forewarn backtest trace --policy all`), and the first window's figures are
read off the same allocations (every policy and the pipeline are causal, so the steps before
END are sized as a run cut at END sizes them); a VM whose provisioned sizes a cut would change
(its base size fills missing sizes) is rerun on the cut. Writes OUT30 (as the command, no
window) and OUTH (as `--end END`). The peers' figures must equal the command's (check them
against an earlier run: `cmp`, or `table.py`).

python docs/analysis/s24-trace/prefix.py OUT30 OUTH END [--jobs N] [--opt k=v[;k=v]] [--vms 3,38]"""
import sys
from pathlib import Path

import numpy as np

from actuators.rightsize import POLICIES
from processors.pipeline import PipelineConfig
from streams.lab.backtest import pmap, write_json
from streams.lab.trace.html import write_report
from streams.lab.trace.loop import (
    RESOURCES,
    allocations,
    base_size,
    figures,
    knob_grid,
    provisioned,
    risk_by_step,
    run_component,
    weights,
)
from streams.lab.trace.summary import result_of
from streams.sim.traces import Trace, load_traces, parse_time, window

sys.path.insert(0, str(Path(__file__).parent))
from splice import DATA, options  # noqa: E402


def record(trace: Trace, allocs: dict, w: np.ndarray) -> dict:
    out = {"component": trace.component, "steps": len(trace), "step_s": trace.step_s,
           "hours": float(w.sum() / 3600.0), "policies": {}}
    for policy, per_res in allocs.items():
        ks = per_res["knobs"]
        per: dict = {"knobs": ks}
        any_over = np.zeros((len(ks), len(trace)), dtype=bool)
        for res in RESOURCES:
            f = figures(trace.demand[res], per_res[res], w, base_size(trace, res))
            any_over |= f.pop("over")
            per[res] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in f.items()}
        per["violation_s_any"] = (any_over * w).sum(axis=1).tolist()
        out["policies"][policy] = per
    return out


def both(trace: Trace, end: int, grid: dict, opts: dict) -> tuple[dict, dict | None]:
    cfg = PipelineConfig()
    risks = risk_by_step(trace, cfg)
    allocs: dict = {}
    for p in POLICIES:
        allocs[p] = {"knobs": list(grid[p])}
        for res in RESOURCES:
            allocs[p][res] = allocations(trace, p, res, grid[p], 300,
                                         risks if p == "forewarn" else None, opts.get(p))
    full = record(trace, allocs, weights(trace))
    cut = window(trace, None, end)
    if cut is None:
        return full, None
    n = len(cut)
    if any(not np.array_equal(provisioned(cut, r), provisioned(trace, r)[:n]) for r in RESOURCES):
        return full, run_component(cut, list(POLICIES), grid, 300, cfg, opts)
    part = {p: {"knobs": a["knobs"], **{r: a[r][:, :n] for r in RESOURCES}}
            for p, a in allocs.items()}
    return full, record(cut, part, weights(cut))


def main(argv: list[str]) -> None:
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    out30, outh, end = Path(argv[0]), Path(argv[1]), parse_time(argv[2])
    comps = None
    if "--vms" in opts:  # a check on a few VMs: 3,38
        comps = [f"2013-7/{v}" for v in opts["--vms"].split(",")]
    traces = load_traces(DATA, comps)
    grid = knob_grid(POLICIES, True, {})
    fo = {"forewarn": options(opts.get("--opt", ""))}
    order = sorted(range(len(traces)), key=lambda i: -len(traces[i]))
    done = dict(zip(order, pmap(both, [(traces[i], end, grid, fo) for i in order],
                                int(opts.get("--jobs", 1))), strict=True))
    for out, j, win in ((out30, 0, None), (outh, 1, {"start": None, "end": end})):
        runs = [done[i][j] for i in range(len(traces)) if done[i][j] is not None]
        result = result_of(runs, list(POLICIES), 300, grid)
        if win is not None:
            result["window"] = win
        write_json(out / "runs.json", result.pop("runs"))
        write_json(out / "trace.json", result)
        write_report(result, out)


if __name__ == "__main__":
    main(sys.argv[1:])
