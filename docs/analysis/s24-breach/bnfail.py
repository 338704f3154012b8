"""The alarm's windows by the combiner's network term, in and out of a rule FAIL (s24, issue
#15): ``python bnfail.py DIR`` (a dir of ``docs/analysis/s13-breach/diag13.py``).

Per alarm window (risk >= 1/3, label known): whether the component is at FAIL by its own rules
(the window's ``fail`` evidence), the band of the alarm's ``bn`` term (weight x log-odds / 5,
clipped), and whether a metric node is in the FAIL level band (state >= 9): count and the
share followed by a new breach within the horizon."""
import collections
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s23-breach"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H  # noqa: E402
from infail import comps  # noqa: E402


def band(bn: float) -> str:
    return "bn >= 0.5" if bn >= 0.5 else "bn < 0.5"


def main(d: str) -> None:
    c: collections.Counter = collections.Counter()
    for rs, ts, risk, f, _, fol, end in comps(d):
        for i in np.flatnonzero((risk >= THR) & (fol | (ts + H <= end))):
            past = any(s >= 9 for k, s in rs[i][5].items() if k != "context")
            k = ("FAIL" if f[i] else "out", band(rs[i][6].get("bn", 0.0)),
                 "a node past FAIL" if past else "none past FAIL")
            c[k] += 1
            c[k + ("followed",)] += int(fol[i])
    for k in sorted(x for x in c if len(x) == 3):
        print(" / ".join(k), c[k], f"followed {c[k + ('followed',)] / c[k]:.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
