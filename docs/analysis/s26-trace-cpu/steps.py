"""CPU allocations per step on one window, sized cold (policies starting at the window's start,
what `backtest trace --start` runs) and warm (policies running since the trace's first step),
for forewarn (every λ of the grid) and reactive (its default): one `.npz` per VM in OUT, read
by `coldwarm.py`. The cold forewarn figures reproduce the command's (checked by coldwarm.py
against its runs.json).

python docs/analysis/s26-trace-cpu/steps.py OUT START VMS [--end T] [--jobs N] [--opt k=v;k=v]
    [--warm 0]
(START/--end: as the command's; VMS: 51-100 or 60,62; --opt: forewarn options, the cold runs)"""
import sys
from pathlib import Path

import numpy as np

from streams.lab.backtest import pmap
from streams.lab.trace.loop import allocations, knob_grid, risk_by_step, weights
from streams.sim.traces import load_traces, parse_time, window

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


def one(trace, start: int, end, out: Path, grid: dict, opt: dict, warm: bool) -> str:
    cut = window(trace, start, end)
    if cut is None:
        return f"{trace.component}: off"
    i0 = int(np.searchsorted(trace.ts, cut.ts[0]))
    i1 = i0 + cut.ts.size
    arrays = {"ts": cut.ts, "demand": cut.demand["cpu"], "w": weights(cut),
              "cap": cut.capacity.get("cpu", np.zeros(cut.ts.size)),
              "lam": np.asarray(grid["forewarn"])}
    risks = risk_by_step(cut, None)
    arrays["fw_cold"] = allocations(cut, "forewarn", "cpu", grid["forewarn"], 300, risks, opt)
    arrays["re_cold"] = allocations(cut, "reactive", "cpu", grid["reactive"][:1], 300)[0]
    if warm:
        full = window(trace, None, end) if end is not None else trace
        risks = risk_by_step(full, None)
        arrays["fw_warm"] = allocations(full, "forewarn", "cpu", grid["forewarn"], 300,
                                        risks)[:, i0:i1]
        arrays["re_warm"] = allocations(full, "reactive", "cpu", grid["reactive"][:1],
                                        300)[0, i0:i1]
    np.savez_compressed(out / f"{trace.component.rsplit('/', 1)[-1]}.npz", **arrays)
    return f"{trace.component}: {cut.ts.size} steps"


def vms(spec: str) -> list[str]:
    if "-" in spec:
        a, b = map(int, spec.split("-"))
        return [f"2013-7/{i}" for i in range(a, b + 1)]
    return [f"2013-7/{i}" for i in spec.split(",")]


def main(argv: list[str]) -> None:
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    out, start = Path(argv[0]), parse_time(argv[1])
    end = parse_time(opts["--end"]) if "--end" in opts else None
    out.mkdir(parents=True, exist_ok=True)
    grid = knob_grid(["forewarn", "reactive"], True)
    traces = load_traces(DATA, vms(argv[2]))
    order = sorted(traces, key=lambda t: -len(t))
    warm = opts.get("--warm", "1") != "0"
    tasks = [(t, start, end, out, grid, options(opts.get("--opt", "")), warm) for t in order]
    for line in pmap(one, tasks, int(opts.get("--jobs", 1))):
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
