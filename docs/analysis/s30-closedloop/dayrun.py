"""forewarn's CPU allocations on one window, started cold (what `backtest trace --start` runs),
with sizer options, written as `docs/analysis/s26-trace-cpu/steps.py` writes them: each VM's
file from REF (s26's per-step files) with its `fw_cold` replaced, so `coldwarm.py` and
`dayfloor.py` read it (reactive and the warm arrays are REF's). `--check 1`: also rerun with no
option and require it equal to REF's `fw_cold` (HEAD reproduces the reference).

python docs/analysis/s30-closedloop/dayrun.py REF OUT START VMS [--end T] [--jobs N]
    [--opt k=v;k=v] [--check 1]"""
import sys
import time
from pathlib import Path

import numpy as np

from streams.lab.backtest import pmap
from streams.lab.trace.loop import allocations, knob_grid, risk_by_step
from streams.sim.traces import load_traces, parse_time, window

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s26-trace-cpu"))
from steps import options, vms  # noqa: E402

DATA = "/work/shared/data/bitbrains/rnd"


def one(trace, start: int, end, ref: Path, out: Path, grid: dict, opt: dict, check: bool) -> str:
    cut = window(trace, start, end)
    name = trace.component.rsplit("/", 1)[-1]
    if cut is None or not (ref / f"{name}.npz").exists():
        return f"{trace.component}: off"
    z = np.load(ref / f"{name}.npz")
    arrays = {k: z[k] for k in z.files}
    assert np.array_equal(arrays["ts"], cut.ts)
    t0 = time.process_time()
    risks = risk_by_step(cut, None)
    t1 = time.process_time()
    arrays["fw_cold"] = allocations(cut, "forewarn", "cpu", grid["forewarn"], 300, risks, opt)
    t2 = time.process_time()
    same = ""
    if check:
        base = allocations(cut, "forewarn", "cpu", grid["forewarn"], 300, risks, {})
        same = f" base==ref {np.array_equal(base, z['fw_cold'])}"
    np.savez_compressed(out / f"{name}.npz", **arrays)
    return (f"{trace.component}: {cut.ts.size} steps, risk {t1 - t0:.1f} s, "
            f"cpu sizer {t2 - t1:.1f} s{same}")


def main(argv: list[str]) -> None:
    opts = dict(zip(argv[4::2], argv[5::2], strict=False))
    ref, out, start = Path(argv[0]), Path(argv[1]), parse_time(argv[2])
    end = parse_time(opts["--end"]) if "--end" in opts else None
    out.mkdir(parents=True, exist_ok=True)
    grid = knob_grid(["forewarn", "reactive"], True)
    traces = load_traces(DATA, vms(argv[3]))
    order = sorted(traces, key=lambda t: -len(t))
    tasks = [(t, start, end, ref, out, grid, options(opts.get("--opt", "")),
              opts.get("--check") == "1") for t in order]
    for line in pmap(one, tasks, int(opts.get("--jobs", 1))):
        print(line, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
