"""Where `backtest trace --policy all` spends its process time (issue #11 speed, s22): per VM,
the pipeline's risk scores (once per VM), each policy x resource over its knob sweep, and the
figures; then the traces' reading and the summary + JSON + HTML writing of those VMs.

cd TREE && PYTHONPATH=. python docs/analysis/s22-tracespeed/profile.py VM [VM ...]
(process seconds, one process; prints the table and the load average)"""
import os
import sys
import tempfile
import time
from pathlib import Path

import orjson

from processors.pipeline import PipelineConfig
from streams.lab.jobs import write_json
from streams.lab.trace.html import write_report
from streams.lab.trace.loop import (
    POLICIES,
    RESOURCES,
    allocations,
    base_size,
    figures,
    knob_grid,
    risk_by_step,
    weights,
)
from streams.lab.trace.summary import result_of
from streams.sim.traces import load_traces

DATA = "/work/shared/data/bitbrains/rnd"
RUNS = os.environ.get("RUNS", "/tmp/lead/full21t/runs.json")


def clock() -> float:
    return time.process_time()


def stages(trace, grid) -> dict[str, float]:
    out: dict[str, float] = {}
    t = clock()
    risks = risk_by_step(trace, PipelineConfig())
    out["pipeline (risk scores, once per VM)"] = clock() - t
    w = weights(trace)
    for p in POLICIES:
        for res in RESOURCES:
            t = clock()
            alloc = allocations(trace, p, res, grid[p], 300,
                                risks if p == "forewarn" else None, None)
            out[f"{p} {res}"] = clock() - t
            t = clock()
            figures(trace.demand[res], alloc, w, base_size(trace, res))
            out["figures"] = out.get("figures", 0.0) + clock() - t
    return out


if __name__ == "__main__":
    vms = [f"2013-7/{v}" for v in sys.argv[1:]]
    print("load average at start", os.getloadavg())
    t = clock()
    traces = load_traces(DATA)
    read = clock() - t
    grid = knob_grid(POLICIES, True)
    rows = {tr.component: stages(tr, grid) for tr in traces if tr.component in vms}
    runs = orjson.loads(Path(RUNS).read_bytes())
    t = clock()
    result = result_of(runs, list(POLICIES), 300, grid)
    with tempfile.TemporaryDirectory() as tmp:
        write_json(Path(tmp) / "runs.json", result.pop("runs"))
        write_json(Path(tmp) / "trace.json", result)
        write_report(result, Path(tmp))
    tail = clock() - t
    names = list(next(iter(rows.values())))
    print(f"{'stage':40s}" + "".join(f"{c:>12s}" for c in rows) + f"{'share':>8s}")
    total = {c: sum(r.values()) for c, r in rows.items()}
    for n in names:
        share = sum(r[n] for r in rows.values()) / sum(total.values())
        print(f"{n:40s}" + "".join(f"{r[n]:12.2f}" for r in rows.values()) + f"{share:8.1%}")
    print(f"{'total per VM':40s}" + "".join(f"{total[c]:12.2f}" for c in rows))
    print(f"reading all 100 files (the parent, before the pool): {read:.2f} s")
    print(f"summary + trace.json + runs.json + index.html of the {len(runs)} VMs: {tail:.2f} s")
    print("load average at end", os.getloadavg())
