"""D2 (session 22): forewarn's and reactive's violation steps at the lambda values bracketing
reactive's slack (s20 diag.py's per-step files), split into the FIRST step of a run of violations
(the step before met) and the steps that CONTINUE a run (the step before violated too: demand
already seen above the allocation, a lead of >= 1 step). python runs.py RES FIRST LAST"""
import sys
from pathlib import Path

import numpy as np

DIRS = {"A": Path("/tmp/hC/diag20"), "B": Path("/tmp/hC/diag18")}
LARGE = {"cpu": 4 * 2600.0, "mem": 16 * 2**20}


def split(d: np.ndarray, a: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    v = d > a
    prev = np.concatenate([[False], v[:-1]])
    return float(w[v & ~prev].sum()), float(w[v & prev].sum())


def main() -> None:
    res, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    tot: dict = {}
    for i in range(a, b + 1):
        z = np.load(DIRS["A" if i <= 50 else "B"] / res / f"{i}.npz")
        g = "large" if float(z["cap"][0]) > LARGE[res] else "small"
        w = z["w"] / 60.0 if z["w"].max() > 10 else z["w"] * 5
        rows = {"fw lo": z["fw"][0], "fw hi": z["fw"][1], "reactive": z["re"][0]}
        for k, alloc in rows.items():
            f, c = split(z["demand"], alloc, w)
            t = tot.setdefault((g, k), [0.0, 0.0]); t[0] += f; t[1] += c
    for (g, k), (f, c) in sorted(tot.items()):
        print(f"{res} {a}-{b} {g:5s} {k:8s}: first {f:9.0f} min  continuing {c:9.0f} min  "
              f"({c / max(f + c, 1):.2f} continuing)")


if __name__ == "__main__":
    main()
