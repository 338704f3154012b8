"""An offline screen (no feedback into the sizer): forewarn's CPU allocations of one window
(`docs/analysis/s26-trace-cpu/steps.py` output) lifted to the largest demand of the last N steps
(capped at the size), at every lambda, and reactive CPU's matched-slack cell read as
`docs/analysis/s26-trace-cpu/coldwarm.py` reads it.

python docs/analysis/s29-closedloop/floor.py STEPS [STEPS ...] [--key fw_cold|fw_warm]
    [--n 0,3,6,12,36]"""
import sys
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s26-trace-cpu"))
from coldwarm import cell, load  # noqa: E402


def floored(alloc: np.ndarray, demand: np.ndarray, cap: np.ndarray, n: int) -> np.ndarray:
    """``alloc`` (knobs x steps) lifted to the largest demand of the ``n`` steps before each."""
    if n == 0:
        return alloc
    pad = np.concatenate([np.zeros(n), demand])
    last = sliding_window_view(pad, n)[:demand.size].max(axis=1)  # demand[i-n:i]
    size = np.where(cap > 0, cap, np.median(cap[cap > 0]))
    return np.maximum(alloc, np.minimum(last, size)[None, :])


def main(argv: list[str]) -> None:
    dirs = [a for a in argv if not a.startswith("--") and Path(a).is_dir()]
    opts = dict(zip(argv[len(dirs)::2], argv[len(dirs) + 1::2], strict=False))
    key = opts.get("--key", "fw_cold")
    for d in dirs:
        vms = load(Path(d))
        for n in map(int, opts.get("--n", "0,3,6,12,36").split(",")):
            lifted = {k: {**x, "fw": floored(x[key], x["demand"], x["cap"], n)}
                      for k, x in vms.items()}
            rs, rv, k1, k2, t, m = cell(lifted, "fw", "re_cold")
            lam = vms[next(iter(vms))]["lam"]
            print(f"{d} {key} N {n}: reactive {rv:,.0f} min @ {100 * rs:.1f} %; forewarn "
                  f"{m:,.0f} = {m / rv:.4f}x (lambda {lam[k1]:g} / {lam[k2]:g})")


if __name__ == "__main__":
    main(sys.argv[1:])
