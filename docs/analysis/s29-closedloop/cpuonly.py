"""forewarn's CPU rerun alone with options, everything else copied from BASE: each VM's
pipeline (the risk the sizers read) and forewarn's CPU sizer on the window, its figures put in
place of BASE's forewarn `cpu` entry (memory, the peers and `violation_s_any` are BASE's; the
goal's cells and curves read `cpu`/`mem` only). Valid for options that change the CPU sizer
only (e.g. `young=cpu`: the memory sizer does not read it). Written as the command writes it
(`docs/analysis/s23-trace/table.py` reads it).

python docs/analysis/s29-closedloop/cpuonly.py BASE OUT [--start T] [--end T] [--jobs N]
    [--opt k=v[;k=v]] [--vms 1-50]"""
import json
import sys
from pathlib import Path

from streams.lab.backtest import pmap, write_json
from streams.lab.trace.loop import allocations, base_size, figures, risk_by_step, weights
from streams.lab.trace.summary import result_of
from streams.sim.traces import load_traces, parse_time

sys.path.insert(0, str(Path(__file__).parents[1] / "s24-trace"))
from splice import DATA, options  # noqa: E402


def cpu_of(trace, knobs: list, delay_s: int, opt: dict) -> tuple[str, dict]:
    risks = risk_by_step(trace, None)
    alloc = allocations(trace, "forewarn", "cpu", knobs, delay_s, risks, opt)
    f = figures(trace.demand["cpu"], alloc, weights(trace), base_size(trace, "cpu"))
    f.pop("over")
    return trace.component, {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f.items()}


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
    opt = options(opts.get("--opt", ""))
    order = sorted(range(len(traces)), key=lambda i: -len(traces[i]))
    new = dict(pmap(cpu_of, [(traces[i], grid["forewarn"], doc["delay_s"], opt) for i in order],
                    int(opts.get("--jobs", 1))))
    runs = []
    for r in old:
        if r["component"] in new:
            fw = {**r["policies"]["forewarn"], "cpu": new[r["component"]]}
            r = {**r, "policies": {**r["policies"], "forewarn": fw}}
        runs.append(r)
    result = result_of(runs, pols, doc["delay_s"], grid)
    if "window" in doc:
        result["window"] = doc["window"]
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "runs.json", result.pop("runs"))
    write_json(out / "trace.json", result)


if __name__ == "__main__":
    main(sys.argv[1:])
