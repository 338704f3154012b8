"""Where forewarn's memory cold start costs: the same steps (from SPLIT on) sized cold
(policies starting at SPLIT) and warm (running since the trace's first step), per VM, memory
violation minutes per day since SPLIT, forewarn at the given lambdas and VPA at its default.

python docs/analysis/s24-trace/coldday.py SPLIT VMS LAMS [--jobs N] [--opt k=v,...]
(VMS: 50,71,78 or 44-53; LAMS: 3e-4,2e-4; --opt: forewarn options for the cold run, e.g.
hold=1)"""
import json
import sys

import numpy as np

from streams.lab.backtest import pmap
from streams.lab.trace.loop import allocations, risk_by_step, weights
from streams.sim.traces import load_traces, parse_time, window

DATA = "/work/shared/data/bitbrains/rnd"


def one(comp, split, lams, opts):
    (trace,) = load_traces(DATA, [comp])
    cut = window(trace, split, None)
    i0 = trace.ts.size - cut.ts.size
    w = weights(cut)
    day = ((cut.ts - split) // 86400).astype(int)
    nd = int(day.max()) + 1
    d = cut.demand["mem"]
    out = {"vm": comp, "days": nd}
    warm_r = risk_by_step(trace, None)
    cold_r = risk_by_step(cut, None)
    runs = {
        "fw_warm": allocations(trace, "forewarn", "mem", lams, 300, warm_r)[:, i0:],
        "fw_cold": allocations(cut, "forewarn", "mem", lams, 300, cold_r),
        "fw_new": allocations(cut, "forewarn", "mem", lams, 300, cold_r, opts) if opts else None,
        "vpa_warm": allocations(trace, "vpa", "mem", [0.9], 300)[:, i0:],
        "vpa_cold": allocations(cut, "vpa", "mem", [0.9], 300),
    }
    for name, a in runs.items():
        if a is None:
            continue
        over = d[None, :] > a
        mins = np.zeros((a.shape[0], nd))
        for k in range(a.shape[0]):
            np.add.at(mins[k], day, over[k] * w / 60.0)
        unused = np.zeros((a.shape[0], nd))
        for k in range(a.shape[0]):
            np.add.at(unused[k], day, np.maximum(a[k] - d, 0) * w / 3600.0 / 1048576.0)
        out[name] = {"min": mins.tolist(), "gibh_unused": unused.tolist()}
    return out


def main(argv):
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    split = parse_time(argv[0])
    spec = argv[1]
    if "-" in spec:
        a, b = map(int, spec.split("-"))
        ids = list(range(a, b + 1))
    else:
        ids = [int(x) for x in spec.split(",")]
    lams = [float(x) for x in argv[2].split(",")]
    fo = {}
    for kv in filter(None, opts.get("--opt", "").split(",")):
        k, v = kv.split("=")
        fo[k] = float(v) if v.replace(".", "").replace("e-", "").isdigit() else v
    tasks = [(f"2013-7/{i}", split, lams, fo) for i in ids]
    res = pmap(one, tasks, int(opts.get("--jobs", 1)))
    print(json.dumps(res))


if __name__ == "__main__":
    main(sys.argv[1:])
