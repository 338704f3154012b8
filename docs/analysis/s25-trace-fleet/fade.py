"""Does the prior fade? Per VM, forewarn's memory allocations over the whole trace (a deployment
running since day 0, as the 30-day command sizes it) with and without the fleet prior, at every
knob of the command's grid: from which step on they are equal to the bit, the largest relative
difference after day 7 and after day 15, and the memory violation minutes on days 0-7, 7-15 and
15-30 of each.

python docs/analysis/s25-trace-fleet/fade.py PRIOR_LOW PRIOR_HIGH VMS [--jobs N]
(VMs 1-50 get PRIOR_LOW, the others PRIOR_HIGH; VMS: 3,50,71)"""
import json
import sys

import numpy as np

from processors.pipeline import PipelineConfig
from streams.lab.backtest import pmap
from streams.lab.trace.loop import allocations, knob_grid, risk_by_step
from streams.sim.traces import load_traces

DATA = "/work/shared/data/bitbrains/rnd"
DAY = 86400


def one(trace, prior: str) -> dict:
    grid = knob_grid(["forewarn"], True, {})["forewarn"]
    risks = risk_by_step(trace, PipelineConfig())
    off = allocations(trace, "forewarn", "mem", grid, 300, risks)
    on = allocations(trace, "forewarn", "mem", grid, 300, risks, {"fleet_prior": prior})
    age = trace.ts - trace.ts[0]
    diff = np.any(off != on, axis=0)
    last = int(np.flatnonzero(diff)[-1]) if diff.any() else -1
    rel = np.abs(off - on) / np.maximum(np.abs(off), 1e-9)
    demand = trace.demand["mem"]
    out = {"vm": trace.component, "last_differing_day": round(float(age[last]) / DAY, 2)
           if last >= 0 else None}
    for lo in (7, 15):
        m = age >= lo * DAY
        out[f"max_rel_diff_after_day{lo}"] = float(rel[:, m].max()) if m.any() else None
    k = grid.index(0.01)
    for name, a in (("off", off), ("on", on)):
        over = demand > a[k]
        out[f"minutes_{name}_l0.01"] = [int(over[(age >= lo * DAY) & (age < hi * DAY)].sum()) * 5
                                        for lo, hi in ((0, 7), (7, 15), (15, 99))]
    return out


def main(argv: list[str]) -> None:
    low, high, vms = argv[0], argv[1], [int(v) for v in argv[2].split(",")]
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    traces = load_traces(DATA, [f"2013-7/{v}" for v in vms])
    tasks = [(t, low if int(t.component.split("/")[1]) <= 50 else high) for t in traces]
    for row in pmap(one, tasks, int(opts.get("--jobs", 1))):
        print(json.dumps(row))


if __name__ == "__main__":
    main(sys.argv[1:])
