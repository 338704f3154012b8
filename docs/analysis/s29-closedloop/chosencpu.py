"""Which of forewarn's forecasters sized the CPU allocation in effect at each miss (s24's
`chosen.py` on CPU), days from SPLIT on, sized warm (policies running since the trace's first
step) or cold (from SPLIT): per VM and lambda, the miss minutes by source (prior, level, window,
peak, week, and `follow`'s lift) and by shortfall (under / at least a quarter of the size), and
the big misses' allocation over the largest demand of the hour before.

python docs/analysis/s29-closedloop/chosencpu.py SPLIT VMS LAMS [--jobs N] [--cold 1]"""
import json
import sys

import numpy as np

from actuators.rightsize import InEffect, make_sizer
from streams.lab.backtest import pmap
from streams.lab.trace.loop import provisioned, risk_by_step, weights
from streams.sim.traces import Trace, load_traces, parse_time, window

DATA = "/work/shared/data/bitbrains/rnd"
SOURCES = ("prior", "level", "window", "peak", "week", "follow")


def sized(trace: Trace, lams: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """The allocation in effect per (knob, step) and the source of the decision behind it."""
    risks = risk_by_step(trace, None)
    cap = provisioned(trace, "cpu")
    sz = make_sizer("forewarn", lams, capacity=float(cap[0]), resource="cpu")
    k, n = len(lams), len(trace)
    timing = InEffect(np.full(k, float(cap[0])), 300)
    label = InEffect(np.zeros(k), 300)
    raw = trace.capacity["cpu"]
    alloc, src = np.empty((k, n)), np.empty((k, n))
    for i in range(n):
        t = int(trace.ts[i])
        alloc[:, i], src[:, i] = timing.at(t), label.at(t)
        sz.observe_capacity(t, float(raw[i]) if raw[i] > 0 else 0.0)
        sz.observe(t, float(trace.demand["cpu"][i]), alloc[:, i])
        followed = sz.missed.copy() if sz.missed is not None else np.zeros(k, dtype=bool)
        timing.decide(t, sz.recommend(t))
        who = 1 + np.argmin(sz.costs, axis=1) if sz.resolved >= 1 else np.zeros(k)
        label.decide(t, np.where(followed, 5.0, np.asarray(who, dtype=float)))
        for r in risks[i]:
            sz.on_risk(r)
    return alloc, src


def one(comp: str, split: int, lams: list[float], cold: bool) -> dict:
    (trace,) = load_traces(DATA, [comp])
    cut = window(trace, split, None)
    i0 = len(trace) - len(cut)
    w, d = weights(cut), cut.demand["cpu"]
    size = float(np.median(cut.capacity["cpu"][cut.capacity["cpu"] > 0]))
    alloc, src = sized(cut, lams) if cold else tuple(a[:, i0:] for a in sized(trace, lams))
    out: dict = {"vm": comp, "lams": lams, "per": []}
    for k in range(len(lams)):
        miss = d > alloc[k]
        big = miss & (d - alloc[k] >= 0.25 * size)
        s = src[k].astype(int)
        row = {}
        for name, m in (("small", miss & ~big), ("big", big)):
            row[name] = np.bincount(s, weights=m * w / 60.0, minlength=len(SOURCES)).tolist()
        prev = [d[max(0, i - 12):i].max() if i else 0.0 for i in np.flatnonzero(big)]
        row["big_over_hour_max"] = (alloc[k][big] / np.maximum(prev, 1e-9)).tolist()
        out["per"].append(row)
    return out


def main(argv: list[str]) -> None:
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    spec = argv[1]
    ids = (list(range(int(spec.split("-")[0]), int(spec.split("-")[1]) + 1)) if "-" in spec
           else [int(x) for x in spec.split(",")])
    lams = [float(x) for x in argv[2].split(",")]
    cold = opts.get("--cold", "0") == "1"
    tasks = [(f"2013-7/{i}", parse_time(argv[0]), lams, cold) for i in ids]
    print(json.dumps(pmap(one, tasks, int(opts.get("--jobs", 1)))))


if __name__ == "__main__":
    main(sys.argv[1:])
