"""Where a scenario's Brier moves between two runs (s28, issue #15): ``python diskbrier.py
BASE NEW [SCENARIO]`` (dirs of ``docs/analysis/s13-breach/diag13.py``; default
``disk_filling``). Per component: the windows whose horizon was seen and whose risk differs,
split by label (a new breach within the horizon or not): how many, the mean risk before and
after, and the squared-error change; and the breach-evidence (``breach``) and ``fail``
terms' means there."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import H, load  # noqa: E402


def main(base: str, new: str, name: str) -> None:
    d0, by0, br = load(os.path.join(base, name + ".pkl"))
    _, by1, _ = load(os.path.join(new, name + ".pkl"))
    tot = 0.0
    for comp, rs0 in sorted(by0.items()):
        rs1 = by1[comp]
        ts = np.array([r[1] for r in rs0])
        r0 = np.array([r[2] for r in rs0])
        r1 = np.array([r[2] for r in rs1])
        b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
        fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
        seen = ts + H <= d0["spans"][comp][1]
        for lab in (True, False):
            m = seen & (fol == lab) & (r0 != r1)
            if not m.any():
                continue
            dsq = float(((r1 - fol) ** 2 - (r0 - fol) ** 2)[m].sum())
            tot += dsq
            be0 = np.mean([rs0[i][4].get("breach", 0.0) for i in np.flatnonzero(m)])
            be1 = np.mean([rs1[i][4].get("breach", 0.0) for i in np.flatnonzero(m)])
            h = (ts[m] - d0["spans"][comp][0]) / 3.6e6
            print(f"{comp:16} label {int(lab)} windows {int(m.sum()):4} risk {r0[m].mean():.3f} -> "
                  f"{r1[m].mean():.3f} breach term {be0:.3f} -> {be1:.3f} sq change {dsq:+.2f} "
                  f"hours {h.min():.1f}-{h.max():.1f}")
    n = sum(int((np.array([r[1] for r in rs]) + H <= d0["spans"][c][1]).sum())
            for c, rs in by0.items())
    print(f"Brier change {tot / n:+.4f} over {n} windows")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "disk_filling")
