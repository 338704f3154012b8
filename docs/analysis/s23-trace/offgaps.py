"""Trial (not adopted): the trace's rows of a VM switched off (provisioned CPU and memory and
both demands all 0) read as gaps instead of samples — live, a switched-off VM emits nothing —
for every policy alike. Only the VMs given are rerun (each VM runs alone); the other VMs' runs
are copied from BASE, and the result is written as the command writes it (`table.py`,
`attrib.py` read it).

python docs/analysis/s23-trace/offgaps.py BASE OUT VMS [--start T] [--end T] [--jobs N]
(BASE: a `backtest trace --policy all` output over the same window; VMS: 44-53 or 20,38)"""
import json
import sys
from pathlib import Path

import numpy as np

from streams.lab.backtest import pmap, write_json
from streams.lab.trace.html import write_report
from streams.lab.trace.loop import run_component
from streams.lab.trace.summary import result_of
from streams.sim.traces import Trace, load_traces, parse_time, window


def on_rows(t: Trace) -> Trace | None:
    on = np.zeros(len(t), dtype=bool)
    for series in (t.capacity, t.demand):
        for r in ("cpu", "mem"):
            if r in series:
                on |= series[r] > 0
    if not on.any():
        return None
    return Trace(t.component, t.ts[on], {k: v[on] for k, v in t.demand.items()},
                 {k: v[on] for k, v in t.capacity.items()}, dict(t.units), t.source, t.skipped)


def vms(spec: str) -> list[str]:
    if "-" in spec:
        a, b = map(int, spec.split("-"))
        return [f"2013-7/{i}" for i in range(a, b + 1)]
    return [f"2013-7/{i}" for i in spec.split(",")]


def main(argv: list[str]) -> None:
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    base, out = Path(argv[0]), Path(argv[1])
    start = parse_time(opts["--start"]) if "--start" in opts else None
    end = parse_time(opts["--end"]) if "--end" in opts else None
    doc = json.loads((base / "trace.json").read_text())
    pols, grid = doc["policies_run"], doc["knobs"]
    cut = [window(t, start, end) for t in load_traces("../shared/data/bitbrains/rnd",
                                                      vms(argv[2]))]
    traces = [g for g in (on_rows(t) for t in cut if t is not None) if g is not None]
    order = sorted(range(len(traces)), key=lambda i: -len(traces[i]))
    done = dict(zip(order, pmap(run_component, [(traces[i], pols, grid, doc["delay_s"], None)
                                                for i in order], int(opts.get("--jobs", 1))),
                    strict=True))
    new = {done[i]["component"]: done[i] for i in range(len(traces))}
    wanted = set(vms(argv[2]))
    runs = [new.get(r["component"], r) for r in json.loads((base / "runs.json").read_text())
            if r["component"] not in wanted or r["component"] in new]
    for c, r in new.items():
        print(c, "steps", r["steps"], "hours", round(r["hours"], 1))
    result = result_of(runs, pols, doc["delay_s"], grid)
    if "window" in doc:
        result["window"] = doc["window"]
    write_json(out / "runs.json", result.pop("runs"))
    write_json(out / "trace.json", result)
    write_report(result, out)


if __name__ == "__main__":
    main(sys.argv[1:])
