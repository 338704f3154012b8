"""WHEN the alarm episodes start (s27, issue #15): ``python when.py DIR [all]``.

Per uncensored episode out of rule FAIL (seasonal scenarios left out unless ``all``): true /
false, scenario, component, start minute, length in windows, lead term, the emitted ``eta_s``,
the next breach of the component after the start (minutes), whether one is within 2 h."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, load  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402

SEASONAL = ("weekly", "daily_peaks")


def rows(d: str, every: bool = False):  # type: ignore[no-untyped-def]
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        if name in SEASONAL and not every:
            continue
        dd, by, br = load(p)
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs])
            risk = np.array([r[2] for r in rs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            s0, end = dd["spans"][comp]
            for a, z in _episodes(risk >= THR):
                t = "T" if fol[a:z + 1].any() else ("C" if ts[a] + H > end else "F")
                if t == "C":
                    continue
                yield name, comp, rs, ts, risk, b, a, z, t, s0


def main(d: str, every: bool) -> None:
    c: collections.Counter = collections.Counter()
    for name, comp, rs, ts, risk, b, a, z, t, s0 in rows(d, every):
        base, st, terms = rs[a][4], rs[a][5], rs[a][6]
        inf = base.get("fail", 0.0) > 0
        nxt = b[b > ts[a]]
        nb = (nxt[0] - ts[a]) / 60_000 if nxt.size else float("nan")
        top = max(terms, key=lambda k: terms[k])
        c[(t, "inFAIL" if inf else "out")] += 1
        print(f"{t} {'FAIL' if inf else 'out '} {name:20} {comp:14} min {(ts[a] - s0) / 60_000:7.0f}"
              f" len {z - a + 1:4d} lead {top:8} eta {rs[a][3]} next {nb:7.1f}"
              f" peak {risk[a:z + 1].max():.2f} st {dict((k, v) for k, v in st.items() if v)}")
    print(dict(c))


if __name__ == "__main__":
    main(sys.argv[1], len(sys.argv) > 2)
