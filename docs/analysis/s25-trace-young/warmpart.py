"""Does the rule fade? Per VM, forewarn's memory allocations over the whole month (every
lambda of the command's grid) with and without the options, and the share of steps that
differ by day since the VM's first sample (the first week is where the rule acts; after it,
only the cost combiner's decayed sums, half-life 3 days, remember it).

python docs/analysis/s25-trace-young/warmpart.py VMS [--opt k=v[;k=v]] [--jobs N]"""
import json
import sys

import numpy as np

from streams.lab.backtest import pmap
from streams.lab.trace.loop import allocations, knob_grid, risk_by_step, weights
from streams.sim.traces import load_traces

DATA = "/work/shared/data/bitbrains/rnd"


def one(comp, opts):
    (trace,) = load_traces(DATA, [comp])
    lams = knob_grid(["forewarn"], True)["forewarn"]
    risk = risk_by_step(trace, None)
    a = allocations(trace, "forewarn", "mem", lams, 300, risk)
    b = allocations(trace, "forewarn", "mem", lams, 300, risk, opts)
    day = ((trace.ts - trace.ts[0]) // 86400).astype(int)
    diff = np.any(a != b, axis=0)
    d, w = trace.demand["mem"], weights(trace)
    after = day >= 7
    mins = [float(((d[None, after] > x[:, after]) * w[after]).sum() / 60) for x in (a, b)]
    return {"vm": comp, "steps": int(diff.size),
            "differ_by_day": [round(float(diff[day == i].mean()), 3)
                              for i in range(int(day.max()) + 1)],
            "differ_after_week": round(float(diff[after].mean()), 4),
            "after_week_minutes_all_lambdas": mins}


def main(argv):
    opts = dict(zip(argv[1::2], argv[2::2], strict=False))
    fo = dict(kv.split("=", 1) for kv in filter(None, opts.get("--opt", "").split(";")))
    ids = [int(x) for x in argv[0].split(",")]
    res = pmap(one, [(f"2013-7/{i}", fo) for i in ids], int(opts.get("--jobs", 1)))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
