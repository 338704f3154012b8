"""One forewarn trial over cached risks: python trial.py NAME RES 'OPTIONS_JSON' FIRST LAST [--extra l1,l2]
-> /tmp/hC/trials/NAME/RES/<i>.json (figures per knob) and diag (seen/expected per knob)."""
import json
import pickle
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import trace_of

from actuators.forecast_sizing import ForewarnSizer
from actuators.rightsize import InEffect, make_sizer
from streams.lab.trace.loop import base_size, figures, knob_grid, provisioned, weights

DIAG = {"on": False}
_orig_tail = ForewarnSizer.tail_factor
def _tail(self):
    return np.ones(self.knobs.size) if DIAG["on"] else _orig_tail(self)
ForewarnSizer.tail_factor = _tail
_orig_cal = ForewarnSizer._calibrate
def _cal(self, ts, got, pick):
    if not hasattr(self, "tot_seen"):
        self.tot_seen = np.zeros(self.knobs.size); self.tot_exp = np.zeros(self.knobs.size)
    self.tot_seen += got > pick[:, 0]; self.tot_exp += pick[:, 1]
    _orig_cal(self, ts, got, pick)
ForewarnSizer._calibrate = _cal

def one(args):
    name, res, opts, i, knobs = args
    import time
    while not Path(f"/tmp/hC/risk/{i}.pkl").exists():
        time.sleep(10)
    time.sleep(1)
    t = trace_of(i)
    risks = pickle.loads(Path(f"/tmp/hC/risk/{i}.pkl").read_bytes())
    cap = provisioned(t, res)
    sizer = make_sizer("forewarn", knobs, capacity=float(cap[0]), step_s=t.step_s,
                       delay_s=300, resource=res, **opts)
    demand, ts = t.demand[res], t.ts
    n, k = len(t), len(knobs)
    out = np.empty((k, n))
    timing = InEffect(np.full(k, float(cap[0])), 300)
    raw = t.capacity.get(res)
    given = np.zeros(n) if raw is None else np.where(raw > 0, raw, 0.0)
    for j in range(n):
        tt = int(ts[j]); eff = timing.at(tt); out[:, j] = eff
        sizer.observe_capacity(tt, float(given[j]))
        sizer.observe(tt, float(demand[j]), eff)
        timing.decide(tt, sizer.recommend(tt))
        for r in risks[j]:
            sizer.on_risk(r)
    f = figures(demand, out, weights(t), base_size(t, res))
    f.pop("over")
    rec = {k2: (v.tolist() if isinstance(v, np.ndarray) else v) for k2, v in f.items()}
    rec["knobs"] = list(knobs)
    if hasattr(sizer, "tot_seen"):
        rec["seen"] = sizer.tot_seen.tolist(); rec["expected"] = sizer.tot_exp.tolist()
        rec["cap"] = float(cap[-1])
    d = Path(f"/tmp/hC/trials/{name}/{res}"); d.mkdir(parents=True, exist_ok=True)
    (d / f"{i}.json").write_text(json.dumps(rec))
    return i

if __name__ == "__main__":
    name, res, opts, a, b = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    if opts.pop("_diag", False):
        DIAG["on"] = True
    knobs = knob_grid(["forewarn"], True)["forewarn"]
    if "--extra" in sys.argv:
        knobs += [float(x) for x in sys.argv[sys.argv.index("--extra") + 1].split(",")]
    todo = [(name, res, opts, i, knobs) for i in range(a, b + 1)
            if not Path(f"/tmp/hC/trials/{name}/{res}/{i}.json").exists()]
    with Pool(int(__import__("os").environ.get("JOBS", "2"))) as p:
        done = sum(1 for _ in p.imap_unordered(one, todo))
    print("done", name, res, a, b, f"({done} VMs run)")
