"""Which evidence raised each alarm episode (s26, issue #15): ``python raisers.py DIR``
(a dir of ``docs/analysis/s13-breach/diag13.py``).

Per uncensored episode: true / false, whether its first window is in a rule FAIL (``fail``
evidence > 0), the scenario, the day (0: the component's first day), and the evidence at the
first window: the combiner's largest term, and each term's share of the positive log-odds."""
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s23-breach"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402

def main(d: str) -> None:
    import glob
    import infail
    c: collections.Counter = collections.Counter()
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        dd, by, br = infail.load(p)
        import numpy as np
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs])
            risk = np.array([r[2] for r in rs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            end = dd["spans"][comp][1]
            d0 = dd["spans"][comp][0] // 86_400_000
            for a, z in _episodes(risk >= THR):
                t = "T" if fol[a:z + 1].any() else ("C" if ts[a] + H > end else "F")
                if t == "C":
                    continue
                base, terms = rs[a][4], rs[a][6]
                inf = "inFAIL" if base.get("fail", 0.0) > 0 else "out"
                top = max(terms, key=lambda k: terms[k])
                day = "day0" if ts[a] // 86_400_000 == d0 else "day1+"
                for k in ((t,), (t, inf), (t, inf, top), (t, inf, day), (t, inf, name),
                          (t, inf, name, top, day)):
                    c[k] += 1
    for k in sorted(c, key=lambda k: (len(k), k)):
        print(" / ".join(k), c[k])


if __name__ == "__main__":
    main(sys.argv[1])
