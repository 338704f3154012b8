"""forewarn's allocations over the sweep with the risk records of this tree and of the s16
cache (/tmp/hC/risk), per VM and resource.

python allocchk.py I ...   (PYTHONPATH=. from the repository root)"""
import pickle
import sys
from pathlib import Path

import numpy as np

from streams.lab.trace.loop import allocations, base_size, figures, knob_grid, risk_by_step, weights
from streams.sim.traces import read_bitbrains

DATA = Path("/work/shared/data/bitbrains/rnd")
KNOBS = list(knob_grid(["forewarn"], True)["forewarn"])

for i in [int(x) for x in sys.argv[1:]]:
    t = read_bitbrains(DATA / "2013-7" / f"{i}.csv.gz", component=f"2013-7/{i}")
    new = risk_by_step(t, None)
    old = pickle.loads(Path(f"/tmp/hC/risk/{i}.pkl").read_bytes())
    w = weights(t)
    for res in ("cpu", "mem"):
        a = allocations(t, "forewarn", res, KNOBS, 300, new, None)
        b = allocations(t, "forewarn", res, KNOBS, 300, old, None)
        va = figures(t.demand[res], a, w, base_size(t, res))["violation_s"] / 60.0
        vb = figures(t.demand[res], b, w, base_size(t, res))["violation_s"] / 60.0
        print(i, res, "alloc equal" if np.array_equal(a, b) else "alloc differ",
              "knobs with minutes differing:", int((va != vb).sum()),
              "max |d| min:", float(np.abs(va - vb).max()), flush=True)
