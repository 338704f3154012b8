"""What holding headroom for a VM's one-step jumps would buy (s20, the per-VM jump price weighed
before building it): ``python jumpcost.py RES``. Per fold, forewarn at the lower-slack bracketing
lambda (diag.py's npz); the curve's own rate between its two bracketing points (minutes saved per
unit of unused capacity added, pooled) beside the rate of adding, on each VM, a constant headroom
H = the median shortfall of its jump steps (the capacity a price that buys its jumps would hold),
pooled by VM group. A jump price can only help where its rate beats the curve's."""
import sys

import numpy as np
from diag import DIRS, kinds

THR = {"cpu": 4 * 2926.0, "mem": 16 * 2.0**20}


def viol(z, a) -> tuple[float, float]:
    d, w = z["demand"], z["w"]
    return float(((d > a) * w).sum() / 60.0), float(((a - np.minimum(d, a)) * w).sum())


if __name__ == "__main__":
    res = sys.argv[1]
    for f, vms in (("A", range(1, 51)), ("B", range(51, 101))):
        zs = {i: np.load(DIRS[f] / res / f"{i}.npz") for i in vms}
        lo = np.sum([viol(z, z["fw"][1]) for z in zs.values()], axis=0)  # higher lambda
        hi = np.sum([viol(z, z["fw"][0]) for z in zs.values()], axis=0)
        curve = (lo[0] - hi[0]) / (hi[1] - lo[1])
        print(f"fold {f} {res}: the curve's rate {curve:.3g} min per unit unused "
              f"({lo[0]:.0f} -> {hi[0]:.0f} min, unused {lo[1]:.4g} -> {hi[1]:.4g})")
        tot = {"large": np.zeros(3), "small": np.zeros(3)}
        for z in zs.values():
            a, d = z["fw"][1], z["demand"]
            k = kinds(z)
            short = (d - a)[((k == 1) | (k == 2)) & (d > a)]
            if short.size == 0:
                continue
            h = float(np.median(short))
            m0, u0 = viol(z, a)
            m1, u1 = viol(z, a + h)
            g = "large" if z["cap"][0] > THR[res] else "small"
            tot[g] += (m0 - m1, u1 - u0, 1)
        for g, (saved, extra, n) in tot.items():
            rate = saved / max(extra, 1e-300)
            print(f"  {g} ({n:.0f} VMs with jumps): saved {saved:.0f} min for {extra:.4g} unused:"
                  f" rate {rate:.3g} = {rate / curve:.2f} x the curve's")
