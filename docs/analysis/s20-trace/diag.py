"""Where the violation minutes at reactive's slack come from, fold A beside fold B (issue #11,
s20 item 1). ``python diag.py RES FIRST LAST`` -> /tmp/hC/diag20/<res>/<i>.npz (per step: the
demand, forewarn at the two lambda values that bracket reactive's slack on the VM's fold, and
reactive 0.7; fold B reuses session 18's /tmp/hC/diag18, the same lambda values).
``python diag.py --read RES`` prints, per fold, forewarn read at reactive's slack (linear
between the bracketing points, as summary.matched reads) beside reactive, split by VM group
(large: over 4 cores / 16 GB provisioned) and by step kind, and the per-VM table."""
import pickle
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s16-trace"))
from build import trace_of  # noqa: E402

from streams.lab.trace.loop import allocations, provisioned, weights  # noqa: E402

# the two lambda values that bracket reactive's slack (fold A from the cache, brk.py; fold B s18's)
LAMS = {("A", "cpu"): [0.01, 0.03], ("A", "mem"): [0.1, 0.15],
        ("B", "cpu"): [0.01, 0.03], ("B", "mem"): [0.05, 0.1]}
DIRS = {"A": Path("/tmp/hC/diag20"), "B": Path("/tmp/hC/diag18")}
KINDS = ("first day", "spike", "level shift", "daily cycle", "new 24 h high", "other")


def fold(i: int) -> str:
    return "A" if i <= 50 else "B"


def one(args: tuple[int, str]) -> int:
    i, res = args
    p = DIRS[fold(i)] / res / f"{i}.npz"
    if p.exists():
        return i
    t = trace_of(i)
    risks = pickle.loads(Path(f"/tmp/hC/risk/{i}.pkl").read_bytes())
    fw = allocations(t, "forewarn", res, LAMS[fold(i), res], 300, risks, {})
    re = allocations(t, "reactive", res, [0.7], 300)
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savez(p, demand=t.demand[res], fw=fw, re=re, w=weights(t), ts=t.ts,
             cap=provisioned(t, res))
    return i


def kinds(z) -> np.ndarray:
    """Each step's kind (index into KINDS). Jump: over twice the last step and 5 % of the size
    above it; a spike if within the next hour demand falls back below the jump's midpoint, else
    a level shift. Daily cycle: no jump, and demand not above the peak of the same hour a day
    before (+-30 min). New 24 h high: above the last day's peak, no jump."""
    d, ts, cap = z["demand"], z["ts"], z["cap"]
    n = len(d)
    age = (ts - ts[0]) / 86400.0
    prev = np.concatenate([[d[0]], d[:-1]])
    jump = d > np.maximum(2 * prev, prev + 0.05 * cap)
    out = np.full(n, 5)
    for j in range(n):
        if age[j] < 1:
            out[j] = 0
        elif jump[j]:
            mid = (d[j] + prev[j]) / 2
            out[j] = 1 if (d[j + 1:j + 13] < mid).any() else 2
        else:
            peak = d[max(0, j - 288):j].max()
            yday = d[max(0, j - 294):max(0, j - 281)]
            if yday.size and d[j] <= yday.max():
                out[j] = 3
            elif d[j] > peak:
                out[j] = 4
    return out


def slack(zs: dict, n: str, c: int) -> float:
    """Pooled, capacity-weighted slack, as summary reads it."""
    alloc = sum((z[n][c] * z["w"]).sum() for z in zs.values())
    return 1 - sum((np.minimum(z["demand"], z[n][c]) * z["w"]).sum()
                   for z in zs.values()) / alloc


def minutes(z, a, k) -> np.ndarray:
    m = (z["demand"] > a) * z["w"] / 60.0
    return np.bincount(k, weights=m, minlength=len(KINDS))


def read(res: str) -> None:
    for f, vms in (("A", range(1, 51)), ("B", range(51, 101))):
        zs = {i: np.load(DIRS[f] / res / f"{i}.npz") for i in vms}
        s_fw, s_re = [slack(zs, "fw", 0), slack(zs, "fw", 1)], slack(zs, "re", 0)
        w = (s_re - s_fw[0]) / (s_fw[1] - s_fw[0])
        print(f"fold {f} {res}: reactive slack {s_re:.4f}; forewarn lambda {LAMS[f, res]} slack "
              f"{s_fw[0]:.4f} / {s_fw[1]:.4f}; weight on the 2nd {w:.3f}")
        tot = {g: np.zeros((3, len(KINDS))) for g in ("large", "small")}
        for i, z in zs.items():
            k = kinds(z)
            big = (z["cap"][0] > (4 * 2926 if res == "cpu" else 16 * 2**20))
            fw = (1 - w) * minutes(z, z["fw"][0], k) + w * minutes(z, z["fw"][1], k)
            re = minutes(z, z["re"][0], k)
            un = [((z[n][c] - np.minimum(z["demand"], z[n][c])) * z["w"]).sum()
                  for n, c in (("fw", 0), ("fw", 1), ("re", 0))]
            g = "large" if big else "small"
            tot[g][0] += fw
            tot[g][1] += re
            tot[g][2][0] += (1 - w) * un[0] + w * un[1]
            tot[g][2][1] += un[2]
            print(f"  {i:3d} {g:5s} cap {z['cap'][0]:10.4g}  fw {fw.sum():7.0f} re {re.sum():7.0f}"
                  f"  ratio {fw.sum() / max(re.sum(), 1):5.2f}  unused fw/re "
                  f"{((1 - w) * un[0] + w * un[1]) / max(un[2], 1):5.2f}  fw by kind "
                  + "/".join(f"{v:.0f}" for v in fw) + "  re " + "/".join(f"{v:.0f}" for v in re))
        for g, t in tot.items():
            print(f" fold {f} {g}: forewarn {t[0].sum():.0f} reactive {t[1].sum():.0f} "
                  f"ratio {t[0].sum() / max(t[1].sum(), 1):.3f}; unused fw {t[2][0]:.4g} re "
                  f"{t[2][1]:.4g}")
            for j, kname in enumerate(KINDS):
                print(f"    {kname:14s} fw {t[0][j]:8.0f}  re {t[1][j]:8.0f}")


if __name__ == "__main__":
    if sys.argv[1] == "--read":
        read(sys.argv[2])
    else:
        res, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        with Pool(1) as pool:
            n = sum(1 for _ in pool.imap_unordered(one, [(i, res) for i in range(a, b + 1)]))
        print("done", res, a, b, n)
