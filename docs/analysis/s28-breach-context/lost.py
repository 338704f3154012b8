"""Breaches foretold 5 minutes ahead by one run and not by another (s28, issue #15):
``python lost.py BASE NEW`` (dirs of ``docs/analysis/s13-breach/diag13.py``).

Per breach whose recall@5m differs (an alarm in ``[b - h, b - 5 min]``): LOST (BASE had one, NEW
not) or GAIN, the scenario, the component, the breach's minute, how far ahead BASE's (or NEW's)
first alarm in that span was, and that window's lead term and ``context``."""
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, L, load  # noqa: E402


def caught(by: dict, br: dict) -> dict:
    out = {}
    for comp, bs in br.items():
        rs = by.get(comp, [])
        ts = np.array([r[1] for r in rs])
        risk = np.array([r[2] for r in rs])
        for b in bs:
            m = (ts >= b - H) & (ts <= b - L) & (risk >= THR)
            out[(comp, b)] = ts[m][0] if m.any() else None
    return out


def main(base: str, new: str) -> None:
    for p in sorted(glob.glob(os.path.join(base, "*.pkl"))):
        name = os.path.basename(p)
        d0, by0, br0 = load(p)
        _, by1, br1 = load(os.path.join(new, name))
        c0, c1 = caught(by0, br0), caught(by1, br1)
        for k in sorted(c0, key=lambda k: k[1]):
            if (c0[k] is None) == (c1.get(k) is None):
                continue
            comp, b = k
            t = c0[k] if c0[k] is not None else c1[k]
            r = {r[1]: r for r in (by0[comp] if c0[k] is not None else by1[comp])}.get(t)
            terms = r[6] if r else {}
            top = max(terms, key=lambda x: terms[x]) if terms else "-"
            ctx = r[4].get("context", 0.0) if r else 0.0
            print(f"{'LOST' if c1.get(k) is None else 'GAIN'} {name[:-4]:12} {comp:16} breach min"
                  f" {(b - d0['spans'][comp][0]) / 6e4:7.1f} first alarm {(b - t) / 6e4:5.1f} min"
                  f" ahead; lead {top} context {ctx:.2f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
