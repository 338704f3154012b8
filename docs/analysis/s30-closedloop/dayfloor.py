"""An offline screen of "the VM's own day" (no feedback into the sizer): forewarn's CPU
allocations of one window (`docs/analysis/s26-trace-cpu/steps.py` output) lifted, at every
lambda, to min(size, E(t)): E(t) is, over the last K days d = 1..K, the MIN of each day's
largest demand within [t - d day - W, t - d day + W] (a day with no sample skipped; none: no
floor); with gate g > 0 only while the largest demand of the last hour is >= g x size. Reactive
CPU's matched-slack cell read as `docs/analysis/s26-trace-cpu/coldwarm.py` reads it.

python docs/analysis/s30-closedloop/dayfloor.py STEPS [STEPS ...] [--key fw_cold|fw_warm]
    [--w 0,30,60] [--k 1,2,3] [--g 0,0.25] [--vms 55-81]"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s26-trace-cpu"))
from coldwarm import cell, load  # noqa: E402

DAY, HOUR = 86400, 3600


def window_max(ts: np.ndarray, demand: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per step, the largest demand with lo <= ts <= hi (NaN where none); causal when hi < ts."""
    i = np.searchsorted(ts, lo, side="left")
    j = np.searchsorted(ts, hi, side="right")
    out = np.full(ts.size, np.nan)
    for s in np.flatnonzero(j > i):
        out[s] = demand[i[s]:j[s]].max()
    return out


def envelope(ts: np.ndarray, demand: np.ndarray, k: int, w: int) -> np.ndarray:
    days = [window_max(ts, demand, ts - d * DAY - w, ts - d * DAY + w) for d in range(1, k + 1)]
    e = np.nanmin(np.vstack(days), axis=0) if k > 1 else days[0]
    return np.nan_to_num(e, nan=0.0)


def lifted(x: dict, key: str, k: int, w: int, g: float) -> np.ndarray:
    ts, demand, cap = x["ts"], x["demand"], x["cap"]
    size = np.where(cap > 0, cap, np.median(cap[cap > 0]))
    e = np.minimum(envelope(ts, demand, k, w), size)
    if g > 0:
        last = window_max(ts, demand, ts - HOUR, ts - 1)
        e = np.where(np.nan_to_num(last, nan=0.0) >= g * size, e, 0.0)
    return np.maximum(x[key], e[None, :])


def vm_set(spec: str) -> set[int]:
    a, b = map(int, spec.split("-"))
    return set(range(a, b + 1))


def main(argv: list[str]) -> None:
    import warnings
    warnings.simplefilter("ignore", RuntimeWarning)  # nanmin of all-NaN columns
    dirs = [a for a in argv if not a.startswith("--") and Path(a).is_dir()]
    opts = dict(zip(argv[len(dirs)::2], argv[len(dirs) + 1::2], strict=False))
    key = opts.get("--key", "fw_cold")
    re = "re_cold" if key == "fw_cold" else "re_warm"
    grid = [(0, 0, 0.0)] + [(k, int(w), float(g)) for w in opts.get("--w", "0,30,60").split(",")
                            for k in map(int, opts.get("--k", "1,2,3").split(","))
                            for g in opts.get("--g", "0,0.25").split(",")]
    for d in dirs:
        vms = load(Path(d))
        if "--vms" in opts:
            vms = {v: x for v, x in vms.items() if v in vm_set(opts["--vms"])}
        lam = vms[next(iter(vms))]["lam"]
        for k, w, g in grid:
            run = {v: {**x, "fw": x[key] if k == 0 else lifted(x, key, k, w * 60, g)}
                   for v, x in vms.items()}
            rs, rv, k1, k2, t, m = cell(run, "fw", re)
            print(f"{d} {key} K {k} W {w} g {g:g}: reactive {rv:,.0f} min @ {100 * rs:.1f} %; "
                  f"forewarn {m:,.0f} = {m / rv:.4f}x (lambda {lam[k1]:g} / {lam[k2]:g} t {t:.2f})",
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
