"""Which signal foretells the cell's large misses (offline, decides nothing): for forewarn's
cold CPU allocation at one lambda on one window (`docs/analysis/s26-trace-cpu/steps.py`
output), the steps whose demand exceeds the allocation by a quarter of the size or more
("large misses"), against every step whose allocation in effect is under a quarter of the size
("exposed"), and how often each signal was on, as known one step before:

* `own day`: the VM's demand one day earlier, within 30 min either side, reached a quarter of
  the size (the `day` forecaster's base);
* `own day covers`: that envelope reached the step's demand;
* `own hour`: the VM's demand within the hour before reached a quarter of the size;
* `sibling`: another VM of the set had demand at a quarter of its size or more on the step
  before (the 5-min grid), while this VM's was under it;
* `siblings >= 3`: three or more did.

Lift = P(large miss | signal) / P(large miss), over the exposed steps.

python docs/analysis/s30-closedloop/predictors.py STEPS VMS LAMBDA [--key fw_cold|fw_warm]"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s26-trace-cpu"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from coldwarm import load  # noqa: E402
from dayfloor import DAY, HOUR, window_max  # noqa: E402


def main(argv: list[str]) -> None:
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    key = opts.get("--key", "fw_cold")
    a, b = map(int, argv[1].split("-"))
    vms = {v: x for v, x in load(Path(argv[0])).items() if a <= v <= b}
    lam = float(argv[2])
    t0 = min(int(x["ts"][0]) for x in vms.values()) // 300
    t1 = max(int(x["ts"][-1]) for x in vms.values()) // 300 + 1
    busy = np.zeros((len(vms), t1 - t0), dtype=bool)  # demand >= size / 4, on the 5-min grid
    rows = {}
    for r, (v, x) in enumerate(vms.items()):
        size = float(np.median(x["cap"][x["cap"] > 0]))
        busy[r, x["ts"] // 300 - t0] = x["demand"] >= 0.25 * size
        rows[v] = (r, size)
    count = busy.sum(axis=0)
    names = ("own day", "own day covers", "own hour", "sibling", "siblings >= 3")
    hits = {n: [0, 0] for n in names}  # [large misses with it, exposed steps with it]
    n_miss = n_exp = 0
    for v, x in vms.items():
        r, size = rows[v]
        ts, d = x["ts"], x["demand"]
        alloc = x[key][int(np.flatnonzero(np.isclose(x["lam"], lam))[0])]
        exposed = alloc < 0.25 * size
        miss = exposed & (d - alloc >= 0.25 * size)
        day = np.nan_to_num(window_max(ts, d, ts - DAY - 1800, ts - DAY + 1800), nan=0.0)
        hour = np.nan_to_num(window_max(ts, d, ts - HOUR, ts - 1), nan=0.0)
        g = ts // 300 - t0 - 1  # the step before, on the grid
        ok = g >= 0
        own_prev = np.where(ok, busy[r, np.maximum(g, 0)], False)
        others = np.where(ok, count[np.maximum(g, 0)] - own_prev, 0)
        sig = {"own day": day >= 0.25 * size, "own day covers": day >= d,
               "own hour": hour >= 0.25 * size, "sibling": (others >= 1) & ~own_prev,
               "siblings >= 3": (others >= 3) & ~own_prev}
        n_miss += int(miss.sum())
        n_exp += int(exposed.sum())
        for n in names:
            hits[n][0] += int((miss & sig[n]).sum())
            hits[n][1] += int((exposed & sig[n]).sum())
    base = n_miss / max(n_exp, 1)
    print(f"{argv[0]} VMs {argv[1]} lambda {lam:g} {key}: {n_miss} large-miss steps of {n_exp} "
          f"exposed ({100 * base:.2f} %)")
    for n in names:
        m, e = hits[n]
        p = m / max(e, 1)
        print(f"  {n:<15} on at {m:>5} misses ({100 * m / max(n_miss, 1):5.1f} %), {e:>7} exposed "
              f"steps ({100 * e / max(n_exp, 1):5.1f} %): P(miss | on) {100 * p:5.2f} % "
              f"lift {p / max(base, 1e-12):4.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
