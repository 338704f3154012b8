"""D3 (session 22): what a follow-after-a-miss floor would buy, offline on s20's per-step files
(charge 0; the sizer's own state not replayed): after a violated step t-1 (demand seen above the
allocation in effect), the allocation in effect at t is at least m * demand[t-1] (capped at the
provisioned size) -- causal with the one-step delay. Per fold and VM group, at the higher-lambda
bracketing point: minutes saved per unit of unused capacity added, against the lambda curve's
own rate (s20 jumpcost.py's). python follow.py RES"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s20-trace"))
from jumpcost import THR, viol  # noqa: E402
from diag import DIRS  # noqa: E402


def floor(z, a: np.ndarray, m: float) -> np.ndarray:
    d, cap = z["demand"], z["cap"]
    miss = np.concatenate([[False], (d > a)[:-1]])
    prev = np.concatenate([[0.0], d[:-1]])
    return np.where(miss, np.maximum(a, np.minimum(m * prev, cap)), a)


if __name__ == "__main__":
    res = sys.argv[1]
    for f, vms in (("A", range(1, 51)), ("B", range(51, 101))):
        zs = {i: np.load(DIRS[f] / res / f"{i}.npz") for i in vms}
        lo = np.sum([viol(z, z["fw"][1]) for z in zs.values()], axis=0)
        hi = np.sum([viol(z, z["fw"][0]) for z in zs.values()], axis=0)
        curve = (lo[0] - hi[0]) / (hi[1] - lo[1])
        print(f"fold {f} {res}: the curve's rate {curve:.3g} min per unit unused")
        for m in tuple(float(x) for x in (sys.argv[2].split(",") if len(sys.argv) > 2 else ("1", "1.2", "1.4286"))):
            tot = {"large": np.zeros(2), "small": np.zeros(2)}
            for z in zs.values():
                a = z["fw"][1]
                m0, u0 = viol(z, a)
                m1, u1 = viol(z, floor(z, a, m))
                g = "large" if z["cap"][0] > THR[res] else "small"
                tot[g] += (m0 - m1, u1 - u0)
            for g, (saved, extra) in tot.items():
                rate = saved / max(extra, 1e-300)
                print(f"  m {m:.2f} {g}: saved {saved:.0f} min for {extra:.4g} unused: "
                      f"rate {rate:.3g} = {rate / curve:.2f} x the curve's")
