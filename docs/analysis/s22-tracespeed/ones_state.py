"""A forewarn sizer of VM 8 after 6,000 steps (both resources, the 19 lambda), pickled, and the
time or Callgrind count of its sizing there (issue #11 speed, s22):

cd TREE && PYTHONPATH=. python docs/analysis/s22-tracespeed/ones_state.py build STATE.pkl
... ones_state.py time STATE.pkl    (us per step and resource, each variant, median of 5 rounds)
valgrind --tool=callgrind ... ones_state.py count STATE.pkl VARIANT REPS   (VARIANT each | all;
take REPS and 0 and divide the difference by 2 x REPS)"""
import pickle
import statistics
import sys
import time

import numpy as np

import actuators.forecast_sizing as fs
import actuators.sizeruns as sr
from actuators.rightsize import InEffect, make_sizer
from streams.lab.trace.loop import knob_grid, provisioned
from streams.sim.traces import read_bitbrains


def no(*_a: object) -> bool:
    return False


def build(path: str) -> None:
    tr = read_bitbrains("/work/shared/data/bitbrains/rnd/2013-7/8.csv.gz", component="2013-7/8")
    knobs = knob_grid(["forewarn"], True)["forewarn"]
    out = {}
    for res in ("cpu", "mem"):
        cap = provisioned(tr, res)
        s = make_sizer("forewarn", knobs, capacity=float(cap[0]), resource=res)
        timing = InEffect(np.full(len(knobs), float(cap[0])), 300)
        for i in range(6000):
            t = int(tr.ts[i])
            e = timing.at(t)
            s.observe_capacity(t, float(cap[i]))
            s.observe(t, float(tr.demand[res][i]), e)
            timing.decide(t, s.recommend(t))
        out[res] = (s, int(tr.ts[6000]))
    with open(path, "wb") as f:
        pickle.dump(out, f)


def variant(name: str, ex_fs: object, ex_sr: object) -> None:
    fs.exact = no if name == "full" else ex_fs  # type: ignore[assignment]
    sr.exact = ex_sr if name == "all" else no  # type: ignore[assignment]


if __name__ == "__main__":
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "build":
        build(path)
        sys.exit(0)
    with open(path, "rb") as f:
        state = pickle.load(f)
    ex = (fs.exact, sr.exact)
    if cmd == "count":
        variant(sys.argv[3], *ex)
        for s, ts in state.values():
            b = s._bases()
            for _ in range(int(sys.argv[4])):
                sr.ones(s, b, ts)
        sys.exit(0)
    for res, (s, ts) in state.items():
        b, got = s._bases(), {v: [] for v in ("full", "each", "all")}
        for _ in range(5):
            for v in got:
                variant(v, *ex)
                t0 = time.process_time()
                for _ in range(500):
                    sr.ones(s, b, ts)
                got[v].append((time.process_time() - t0) / 500 * 1e6)
        print(res, {v: round(statistics.median(x), 1) for v, x in got.items()}, "us")
