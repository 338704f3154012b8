"""Where a ``restart.py`` MODE's Brier comes from (s28): ``python brier.py DIR MODE``: the change
of the summed squared error against the default, by the window's label (a breach within the
horizon or not) and by whether the mean rose above or fell below the raw risk, per scenario."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
import restart  # noqa: E402
from episodes import H, load  # noqa: E402


def main(d: str, mode: str) -> None:
    tot: collections.Counter = collections.Counter()
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        dd, by, br = load(p)
        c: collections.Counter = collections.Counter()
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs])
            risk = np.array([r[2] for r in rs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            seen = ts + H <= dd["spans"][comp][1]
            new = restart.emit(rs, ts, risk, mode)
            delta = (new - fol) ** 2 - (risk - fol) ** 2
            for lab in (0, 1):
                for side, m in (("above", new > risk), ("below", new < risk)):
                    sel = seen & (fol == lab) & m
                    c[f"y{lab} {side}"] += float(delta[sel].sum())
            c["n"] += int(seen.sum())
        tot.update(c)
        print(f"{os.path.basename(p)[:-4]:24}", "  ".join(
            f"{k} {v:+8.2f}" for k, v in sorted(c.items()) if k != "n"))
    print(f"{'all (sum; /n = Brier)':24}", "  ".join(
        f"{k} {v:+8.2f}" for k, v in sorted(tot.items()) if k != "n"), f"n {tot['n']}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "edgeup")
