"""Which of forewarn's forecasters sized the memory allocation in effect, cold against warm on
the same steps (from SPLIT on), and what each cost: per VM, at each lambda, the miss minutes and
unused GiB-h of the steps whose allocation came from each source (the prior's hold before the
first outcome, forecaster level / window / peak / week as the cost combiner chose it), by day
since SPLIT. The sizer is the default's (`make_sizer("forewarn", ..., resource="mem")`).

python docs/analysis/s24-trace/chosen.py SPLIT VMS LAMS [--jobs N]  (prints JSON)"""
import json
import sys

import numpy as np

from actuators.rightsize import InEffect, make_sizer
from streams.lab.backtest import pmap
from streams.lab.trace.loop import provisioned, risk_by_step, weights
from streams.sim.traces import Trace, load_traces, parse_time, window

DATA = "/work/shared/data/bitbrains/rnd"
SOURCES = ("prior", "level", "window", "peak", "week")


def sized(trace: Trace, lams: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """The allocation in effect per (knob, step) and the source of the decision behind it."""
    risks = risk_by_step(trace, None)
    cap = provisioned(trace, "mem")
    sz = make_sizer("forewarn", lams, capacity=float(cap[0]), resource="mem")
    k, n = len(lams), len(trace)
    timing = InEffect(np.full(k, float(cap[0])), 300)
    label = InEffect(np.zeros(k), 300)
    raw = trace.capacity["mem"]
    alloc, src = np.empty((k, n)), np.empty((k, n))
    for i in range(n):
        t = int(trace.ts[i])
        alloc[:, i], src[:, i] = timing.at(t), label.at(t)
        sz.observe_capacity(t, float(raw[i]) if raw[i] > 0 else 0.0)
        sz.observe(t, float(trace.demand["mem"][i]), alloc[:, i])
        timing.decide(t, sz.recommend(t))
        who = 1 + np.argmin(sz.costs, axis=1) if sz.resolved >= 1 else np.zeros(k)
        label.decide(t, np.asarray(who, dtype=float))
        for r in risks[i]:
            sz.on_risk(r)
    return alloc, src


def one(comp: str, split: int, lams: list[float]) -> dict:
    (trace,) = load_traces(DATA, [comp])
    cut = window(trace, split, None)
    i0 = len(trace) - len(cut)
    w, d = weights(cut), cut.demand["mem"]
    day = ((cut.ts - split) // 86400).astype(int)
    out: dict = {"vm": comp}
    for name, (alloc, src) in (("warm", tuple(a[:, i0:] for a in sized(trace, lams))),
                               ("cold", sized(cut, lams))):
        per = np.zeros((len(lams), len(SOURCES), 2, 16))  # knob, source, (min, GiB-h), day
        for k in range(len(lams)):
            s = src[k].astype(int)
            np.add.at(per[k, :, 0], (s, day), (d > alloc[k]) * w / 60.0)
            np.add.at(per[k, :, 1], (s, day), np.maximum(alloc[k] - d, 0) * w / 3600 / 2**20)
        out[name] = per.tolist()
    return out


def main(argv: list[str]) -> None:
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    spec = argv[1]
    if "-" in spec:
        a, b = map(int, spec.split("-"))
        ids = list(range(a, b + 1))
    else:
        ids = [int(x) for x in spec.split(",")]
    lams = [float(x) for x in argv[2].split(",")]
    tasks = [(f"2013-7/{i}", parse_time(argv[0]), lams) for i in ids]
    print(json.dumps(pmap(one, tasks, int(opts.get("--jobs", 1)))))


if __name__ == "__main__":
    main(sys.argv[1:])
