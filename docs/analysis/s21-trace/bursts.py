"""What the large VMs' memory is (issue #11, s21 diagnosis): per VM, demand quantiles (GB),
forewarn's and reactive's allocation at the two lambda values that bracket reactive's slack on
the VM's fold (session 20's per-step runs: /tmp/hC/diag20 fold A, /tmp/hC/diag18 fold B, from
``s20-trace/diag.py``), the share of steps over the allocation, and one 5-hour slice.

python bursts.py 44 47 50 56 58"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s20-trace"))
from diag import kinds  # noqa: E402

G = 1024 * 1024  # KB per GB (GiB)


def show(i: int) -> None:
    z = np.load(f"/tmp/hC/diag20/mem/{i}.npz" if i <= 50 else f"/tmp/hC/diag18/mem/{i}.npz")
    d, fw, re, cap = z["demand"] / G, z["fw"] / G, z["re"] / G, z["cap"] / G
    other = kinds(z) == 5
    print(f"VM {i}: size {cap[-1]:.1f} GB; demand q0/10/50/80/90/95/99/100",
          np.round(np.quantile(d, [0, .1, .5, .8, .9, .95, .99, 1]), 2))
    for li in range(fw.shape[0]):
        over = d > fw[li]
        print(f"  forewarn lambda #{li}: median {np.median(fw[li]):.2f} GB, over {over.mean():.3f} "
              f"of steps, {over[other].mean():.3f} of 'other' steps ({other.sum()})")
    print(f"  reactive 0.7: median {np.median(re[0]):.2f} GB, over {(d > re[0]).mean():.3f}")
    j0 = len(d) // 2
    for name, v in (("demand", d), ("forewarn", fw[0]), ("reactive", re[0])):
        print(f"  {name:9s}", " ".join(f"{x:.1f}" for x in v[j0:j0 + 60]))


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        show(int(arg))
