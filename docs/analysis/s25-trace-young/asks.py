"""What a young forewarn asks against what VPA asks: the same steps from SPLIT on, every policy
starting cold there, per VM and day since SPLIT: memory violation minutes, unused GiB-h, the
median allocation and the day's largest demand (GiB); forewarn at the given lambdas with its
defaults and (``--opt``) with options, VPA at its default.

python docs/analysis/s25-trace-young/asks.py SPLIT VMS LAMS [--jobs N] [--opt k=v[;k=v]]
(VMS: 50,71,78 or 44-53; LAMS: 3e-4,0.01,1; --opt young=mem). JSON on stdout, a table on
stderr."""
import json
import sys

import numpy as np

from streams.lab.backtest import pmap
from streams.lab.trace.loop import allocations, risk_by_step, weights
from streams.sim.traces import load_traces, parse_time, window

DATA = "/work/shared/data/bitbrains/rnd"
GIB = 1048576.0


def _per_day(a, d, w, day, nd):
    out = {"min": [], "gibh_unused": [], "median_gib": [], "peak_gib": []}
    for k in range(a.shape[0]):
        m, u = np.zeros(nd), np.zeros(nd)
        np.add.at(m, day, (d > a[k]) * w / 60.0)
        np.add.at(u, day, np.maximum(a[k] - d, 0) * w / 3600.0 / GIB)
        out["min"].append(m.round(1).tolist())
        out["gibh_unused"].append(u.round(1).tolist())
        out["median_gib"].append([round(float(np.median(a[k][day == i])) / GIB, 2)
                                  for i in range(nd)])
    out["peak_gib"] = [round(float(d[day == i].max()) / GIB, 2) for i in range(nd)]
    return out


def one(comp, split, lams, opts):
    (trace,) = load_traces(DATA, [comp])
    cut = window(trace, split, None)
    w = weights(cut)
    day = ((cut.ts - split) // 86400).astype(int)
    nd = int(day.max()) + 1
    d = cut.demand["mem"]
    risk = risk_by_step(cut, None)
    runs = {"forewarn": allocations(cut, "forewarn", "mem", lams, 300, risk),
            "vpa": allocations(cut, "vpa", "mem", [0.9], 300)}
    if opts:
        runs["forewarn+opt"] = allocations(cut, "forewarn", "mem", lams, 300, risk, opts)
    return {"vm": comp, "days": nd, **{k: _per_day(a, d, w, day, nd) for k, a in runs.items()}}


def main(argv):
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    split, spec = parse_time(argv[0]), argv[1]
    if "-" in spec:
        a, b = map(int, spec.split("-"))
        ids = list(range(a, b + 1))
    else:
        ids = [int(x) for x in spec.split(",")]
    lams = [float(x) for x in argv[2].split(",")]
    fo = {}
    for kv in filter(None, opts.get("--opt", "").split(";")):
        k, v = kv.split("=", 1)
        fo[k] = v
    res = pmap(one, [(f"2013-7/{i}", split, lams, fo) for i in ids], int(opts.get("--jobs", 1)))
    print(json.dumps(res))
    for r in res:
        for name in ("forewarn", "forewarn+opt", "vpa"):
            if name not in r:
                continue
            for k in range(len(r[name]["min"])):
                lab = f"{name}@{lams[k]:g}" if name != "vpa" else "vpa@0.9"
                m, u, a = r[name]["min"][k], r[name]["gibh_unused"][k], r[name]["median_gib"][k]
                print(f"{r['vm']:>10} {lab:>18} min {sum(m):7.0f} d0-3 {m[:4]} unused "
                      f"{sum(u):8.0f} d0-3 {[round(x) for x in u[:4]]} median {a[:5]}",
                      file=sys.stderr)
        print(f"{r['vm']:>10} {'demand peak':>18} {r['vpa']['peak_gib'][:8]}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
