"""Round seven (s15): per-window reliability inside and outside a FAIL, from ``diag13.py``'s
pickles: ``python reliability.py DIR``: per risk bin, windows with a known label and the share
followed by a new breach within the horizon (markdown rows)."""
import collections
import glob
import os
import pickle
import sys

import numpy as np

H = 900_000
EDGES = [0, 0.1, 0.2, 1 / 3, 0.5, 0.7, 1.01]


def main(d0: str) -> None:
    tot: dict = collections.defaultdict(lambda: np.zeros(2))
    for path in sorted(glob.glob(os.path.join(d0, "*.pkl"))):
        d = pickle.load(open(path, "rb"))
        by = collections.defaultdict(list)
        for row in d["rows"]:
            by[row[0]].append(row)
        br = collections.defaultdict(list)
        for b in d["breaches"]:
            br[b.component].append(b.breach_ms)
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs])
            risk = np.array([r[2] for r in rs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            known = fol | (ts + H <= d["spans"][comp][1])
            inside = np.zeros(ts.size, bool)
            for lo, hi in d["failing"].get(comp, []):
                inside |= (ts >= lo) & (ts < hi)
            for lab, m in (("in FAIL", inside), ("not in FAIL", ~inside)):
                for k in range(len(EDGES) - 1):
                    sel = known & m & (risk >= EDGES[k]) & (risk < EDGES[k + 1])
                    tot[(lab, k)] += [sel.sum(), fol[sel].sum()]
    for lab in ("in FAIL", "not in FAIL"):
        cells = [f"{int(n):,} / {k / max(1, n):.3f}"
                 for n, k in (tot[(lab, j)] for j in range(len(EDGES) - 1))]
        print(f"| {lab} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
