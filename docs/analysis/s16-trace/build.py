"""Per VM: cache the pipeline's risk scores, and run every policy over its sweep (as
run_component does, forewarn at its defaults) -> /tmp/hC/risk/<i>.pkl, /tmp/hC/runs/<i>.json."""
import json
import pickle
import sys
from pathlib import Path

import numpy as np

from actuators.rightsize import POLICIES
from streams.lab.trace.loop import (
    RESOURCES,
    allocations,
    base_size,
    figures,
    knob_grid,
    risk_by_step,
    weights,
)
from streams.sim.traces import read_bitbrains

DATA = Path("/work/shared/data/bitbrains/rnd")

def trace_of(i):
    return read_bitbrains(DATA / "2013-7" / f"{i}.csv.gz", component=f"2013-7/{i}")

def run(i):
    t = trace_of(i)
    rp = Path(f"/tmp/hC/risk/{i}.pkl")
    if rp.exists():
        risks = pickle.loads(rp.read_bytes())
    else:
        risks = risk_by_step(t, None)
        rp.write_bytes(pickle.dumps(risks))
    grid = knob_grid(POLICIES, True)
    w = weights(t)
    out = {"component": t.component, "steps": len(t), "step_s": t.step_s,
           "hours": float(w.sum() / 3600.0), "policies": {}}
    for policy in POLICIES:
        ks = list(grid[policy]); per = {"knobs": ks}
        any_over = np.zeros((len(ks), len(t)), dtype=bool)
        for res in RESOURCES:
            alloc = allocations(t, policy, res, ks, 300, risks if policy == "forewarn" else None, None)
            f = figures(t.demand[res], alloc, w, base_size(t, res))
            any_over |= f.pop("over")
            per[res] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in f.items()}
        per["violation_s_any"] = (any_over * w).sum(axis=1).tolist()
        out["policies"][policy] = per
    Path(f"/tmp/hC/runs/{i}.json").write_text(json.dumps(out))

if __name__ == "__main__":
    for i in [int(x) for x in sys.argv[1:]]:
        if not Path(f"/tmp/hC/runs/{i}.json").exists():
            run(i); print(i, flush=True)
