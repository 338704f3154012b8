"""forewarn's sizing (one VM, both resources, the 19 lambda, its risk scores computed once and
cached under /tmp) in interleaved runs of three variants, process time, medians (issue #11
speed, s22): ``full`` the computation before session 22 (every bucket), ``each`` the kept
buckets forecaster by forecaster (0c0560b), ``all`` every forecaster at once (7359b75). The
allocations of every run are checked equal, byte for byte.

cd TREE && PYTHONPATH=. python docs/analysis/s22-tracespeed/sizing_ab.py VM ROUNDS full,each,all"""
import os
import pickle
import statistics
import sys
import time
from pathlib import Path

import actuators.forecast_sizing as fs
import actuators.sizeruns as sr
from processors.pipeline import PipelineConfig
from streams.lab.trace.loop import allocations, knob_grid, risk_by_step
from streams.sim.traces import read_bitbrains


def no(*_a: object) -> bool:
    return False


if __name__ == "__main__":
    vm, rounds, variants = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    tr = read_bitbrains(f"/work/shared/data/bitbrains/rnd/2013-7/{vm}.csv.gz",
                        component=f"2013-7/{vm}")
    cache = Path(f"/tmp/s22-tracespeed-risk{vm}.pkl")
    if not cache.exists():
        cache.write_bytes(pickle.dumps(risk_by_step(tr, PipelineConfig())))
    risks = pickle.loads(cache.read_bytes())
    knobs = knob_grid(["forewarn"], True)["forewarn"]
    ex_fs, ex_sr = fs.exact, sr.exact
    print("load at start", os.getloadavg())
    res: dict[str, list[float]] = {v: [] for v in variants}
    ref = None
    for p in range(rounds):
        for v in (variants if p % 2 == 0 else variants[::-1]):
            fs.exact = no if v == "full" else ex_fs  # type: ignore[assignment]
            sr.exact = ex_sr if v == "all" else no  # type: ignore[assignment]
            t0 = time.process_time()
            out = [allocations(tr, "forewarn", r, knobs, 300, risks, None).tobytes()
                   for r in ("cpu", "mem")]
            res[v].append(time.process_time() - t0)
            ref = ref or out
            assert out == ref, f"{v}: allocations differ"
        print("round", p, {v: round(res[v][-1], 2) for v in variants})
    med = {v: statistics.median(res[v]) for v in variants}
    print("median", {v: round(m, 2) for v, m in med.items()},
          "ratio to", variants[0], {v: round(m / med[variants[0]], 3) for v, m in med.items()})
    print("load at end", os.getloadavg())
