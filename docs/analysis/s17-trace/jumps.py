"""Item 1 of s17 (docs/closedloop.md, "Round of 2026-12-05 night"): over diag.py's per-step
files (/tmp/hC/diag/base), forewarn's memory misses at lambda 1e-4 on one-step jumps, whether
the VM reached that level before (7 days / ever) or at the same time a day / week earlier,
and how much of its allocation is over the provisioned size (and the most demand seen)."""
from collections import Counter

import numpy as np

LAMS = [1e-4, 1.5e-4, 2e-4]


def load(i):
    return np.load(f"/tmp/hC/diag/base/{i}.npz")


def jumps():
    tot = Counter()
    for i in range(1, 101):
        z = load(i)
        d, w, ts, cap = z["demand"], z["w"], z["ts"], z["cap"]
        prev = np.concatenate([[d[0]], d[:-1]])
        jump = d > np.maximum(2 * prev, prev + 0.05 * cap)
        for j in np.flatnonzero(jump & (d > z["fw"][0])):
            m = w[j] / 60
            tot["all"] += m
            for lag, name in ((86400, "day"), (7 * 86400, "week")):
                lo, hi = np.searchsorted(ts, [ts[j] - lag - 900, ts[j] - lag + 901])
                if hi > lo and d[lo:hi].max() >= 0.8 * d[j]:
                    tot[f"high {name} before +-15 min"] += m
            lo = np.searchsorted(ts, ts[j] - 7 * 86400)
            if j > lo and d[lo:j].max() >= 0.8 * d[j]:
                tot["level reached in the last 7 days"] += m
    for k, v in sorted(tot.items()):
        print(f"jump misses, {k}: {v:.0f} min")


def above():
    for k, lam in enumerate(LAMS):
        unused = over = lost = 0.0
        per = []
        for i in range(1, 101):
            z = load(i)
            d, w, cap, a = z["demand"], z["w"], z["cap"], z["fw"][k]
            seen = np.maximum.accumulate(np.concatenate([[0.0], d[:-1]]))
            top = np.maximum(cap, seen)
            unused += ((a - np.minimum(d, a)) * w).sum()
            x = (np.maximum(a - top, 0) * w).sum()
            over += x
            per.append((round(x / 1e12, 1), i))
            lost += (((d > np.minimum(a, top)) & ~(d > a)) * w).sum() / 60
        print(f"lambda {lam:g}: unused {unused / 1e12:.0f}e12 KB.s, over max(size, most seen) "
              f"{over / 1e12:.0f}e12 ({100 * over / unused:.1f} %), minutes a cap there adds "
              f"{lost:.0f}; largest: {sorted(per)[-8:]}")


if __name__ == "__main__":
    jumps()
    above()
