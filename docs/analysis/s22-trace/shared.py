"""D1 (session 22): do one VM's one-step CPU/memory jumps follow OTHER VMs' jumps by >= 1 step?
python shared.py RES FIRST LAST [FLEET_FIRST FLEET_LAST]  (the fleet = the VMs a live actuator sees;
default: the same range). Jump of VM i at step t: demand[t] - demand[t-1] > 5 % of its size
(s20 diag.py's rule). Prints, per group (large: > 4 cores / > 16 GiB), P(jump at t) and
P(jump at t | k others jumped at t-1, i did not), k = 1, 2, 3, 5, 10, and the share of i's jumps
that such a lead would have flagged."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s16-trace"))
from build import trace_of  # noqa: E402

from streams.lab.trace.loop import provisioned  # noqa: E402

LARGE = {"cpu": 4 * 2600.0, "mem": 16 * 2**20}


def jumps(res: str, vms) -> tuple[np.ndarray, dict]:
    t0, n = 1372629804 // 300, 8700
    out, size = np.zeros((len(vms), n), bool), {}
    for r, i in enumerate(vms):
        t = trace_of(i)
        cap = float(provisioned(t, res)[0]); size[i] = cap
        k = (np.asarray(t.ts) // 300 - t0).astype(int)
        d = np.full(n, np.nan); d[k[(k >= 0) & (k < n)]] = np.asarray(t.demand[res])[(k >= 0) & (k < n)]
        j = np.zeros(n, bool); j[1:] = (d[1:] - d[:-1]) > 0.05 * cap
        out[r] = j
    return out, size


def main() -> None:
    res, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    fa, fb = (int(sys.argv[4]), int(sys.argv[5])) if len(sys.argv) > 5 else (a, b)
    vms, fleet = list(range(a, b + 1)), list(range(fa, fb + 1))
    allv = sorted(set(vms) | set(fleet))
    J, size = jumps(res, allv)
    row = {v: r for r, v in enumerate(allv)}
    F = J[[row[v] for v in fleet]].sum(0)
    for grp in ("large", "small"):
        sel = [v for v in vms if (size[v] > LARGE[res]) == (grp == "large")]
        if not sel:
            continue
        base = np.mean([J[row[v], 1:].mean() for v in sel])
        print(f"{res} VMs {a}-{b} {grp} ({len(sel)} VMs), fleet {fa}-{fb}: P(jump) {base:.4f}")
        for k in (1, 2, 3, 5, 10):
            hit = cnt = flagged = tot = 0
            for v in sel:
                j = J[row[v]]
                others = F - (j if v in fleet else 0)
                cond = (others[:-1] >= k) & ~j[:-1]
                hit += (j[1:] & cond).sum(); cnt += cond.sum()
                flagged += (j[1:] & cond).sum(); tot += j[1:].sum()
            p = hit / max(cnt, 1)
            print(f"  k>={k:2d}: steps flagged {cnt / len(sel):7.1f}/VM  P(jump|flag) {p:.4f} "
                  f"lift {p / max(base, 1e-9):6.1f}  share of jumps flagged {flagged / max(tot, 1):.3f}")
        # same-step co-jumps (no lead): how many of i's jumps have others jumping at the SAME step
        same = np.mean([((F - J[row[v]])[1:][J[row[v], 1:]] >= 1).mean() if J[row[v]].any() else 0 for v in sel])
        print(f"  share of jumps with >= 1 other jumping at the same step: {same:.3f}")


if __name__ == "__main__":
    main()
