"""forewarn rerun alone with options, the peers' runs copied from BASE (each VM runs alone and
the peers never read forewarn, so this is what the command writes with those options), written
as the command writes it (`table.py`, `attrib.py` of docs/analysis/s23-trace read it).

python docs/analysis/s24-trace/splice.py BASE OUT [--start T] [--end T] [--jobs N]
    [--opt k=v[;k=v]] [--vms 1-20]
(BASE: a `backtest trace --policy all` output over the same window; --opt: forewarn options,
e.g. hold=mem; no --opt: forewarn's defaults, which must give BASE's bytes when BASE was run
on the same defaults; --vms: only those VMs rerun, the rest copied)"""
import json
import sys
from pathlib import Path

from streams.lab.backtest import pmap, write_json
from streams.lab.trace.html import write_report
from streams.lab.trace.loop import run_component
from streams.lab.trace.summary import result_of
from streams.sim.traces import load_traces, parse_time

DATA = "/work/shared/data/bitbrains/rnd"


def options(text: str) -> dict:
    out: dict = {}
    for kv in filter(None, text.split(";")):
        k, v = kv.split("=", 1)
        try:
            out[k] = float(v)
        except ValueError:
            out[k] = v
    return out


def main(argv: list[str]) -> None:
    opts = dict(zip(argv[2::2], argv[3::2], strict=False))
    base, out = Path(argv[0]), Path(argv[1])
    start = parse_time(opts["--start"]) if "--start" in opts else None
    end = parse_time(opts["--end"]) if "--end" in opts else None
    doc = json.loads((base / "trace.json").read_text())
    pols, grid = doc["policies_run"], doc["knobs"]
    old = json.loads((base / "runs.json").read_text())
    comps = [r["component"] for r in old]
    if "--vms" in opts:
        a, b = map(int, opts["--vms"].split("-"))
        comps = [c for c in comps if a <= int(c.split("/")[1]) <= b]
    traces = load_traces(DATA, comps, start, end)
    fo = {"forewarn": options(opts.get("--opt", ""))}
    order = sorted(range(len(traces)), key=lambda i: -len(traces[i]))
    done = dict(zip(order, pmap(run_component, [(traces[i], ["forewarn"], grid,
                                                 doc["delay_s"], None, fo) for i in order],
                                int(opts.get("--jobs", 1))), strict=True))
    new = {done[i]["component"]: done[i] for i in range(len(traces))}
    runs = []
    for r in old:
        if r["component"] in new:
            r = {**r, "policies": {**r["policies"],
                                   "forewarn": new[r["component"]]["policies"]["forewarn"]}}
        runs.append(r)
    result = result_of(runs, pols, doc["delay_s"], grid)
    if "window" in doc:
        result["window"] = doc["window"]
    write_json(out / "runs.json", result.pop("runs"))
    write_json(out / "trace.json", result)
    write_report(result, out)


if __name__ == "__main__":
    main(sys.argv[1:])
