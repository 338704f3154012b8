"""Why the alarm dropped in a rule FAIL loses (s24, issue #15): ``python split.py DIR [DIR ...]``
(dirs of ``docs/analysis/s13-breach/diag13.py``).

s23's what-if (``docs/analysis/s23-breach/infail.py``, ``drop``: the emitted risk set to 0
in every window whose component is at FAIL by its own rules, the learning unchanged) only
removes alarms, so each of its episodes lies inside one episode of the run as it is. Per
episode as it is (true / false / censored), what becomes of it: gone (every alarm in FAIL),
kept whole or cut into pieces, and of the pieces how many are true, false or censored; and
per breach predicted as is but not after the drop, whether the metric that breaches is the
one at FAIL (its own FAIL again, more than a horizon after it cleared) or another metric of
the component (a cascade). Prints the counts pooled over the dir's scenarios."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, L  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402


def verdict(fol: np.ndarray, ts: np.ndarray, a: int, z: int, end: int) -> str:
    if fol[a:z + 1].any():
        return "T"
    return "C" if ts[a] + H > end else "F"


def one(path: str, c: collections.Counter) -> None:
    import pickle
    d = pickle.load(open(path, "rb"))
    by: dict = collections.defaultdict(list)
    for row in d["rows"]:
        by[row[0]].append(row)
    br: dict = collections.defaultdict(list)
    for b in d["breaches"]:
        br[b.component].append((b.breach_ms, b.metric))
    for comp, rs in by.items():
        ts = np.array([r[1] for r in rs])
        risk = np.array([r[2] for r in rs])
        f = np.array([r[4].get("fail", 0.0) > 0 for r in rs])
        bl = sorted(br.get(comp, []))
        b = np.array([x for x, _ in bl], dtype=np.int64)
        end = d["spans"][comp][1]
        fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
        alarm = risk >= THR
        dropped = alarm & ~f
        for a, z in _episodes(alarm):
            v = verdict(fol, ts, a, z, end)
            pieces = [(a + p, a + q) for p, q in _episodes(dropped[a:z + 1])]
            kind = "gone" if not pieces else "whole" if len(pieces) == 1 else "cut"
            c[f"as-is {v} -> {kind}"] += 1
            for p, q in pieces:
                pv = verdict(fol, ts, p, q, end)
                c[f"as-is {v} -> piece {pv}"] += 1
                if v == "T" and pv == "F":  # after the episode's breach, or before it?
                    first = b[np.searchsorted(b, ts[a], "right")]
                    c["  false piece of a true episode " + ("after" if ts[p] >= first
                                                            else "before") + " its breach"] += 1
        ats, dts = ts[alarm], ts[dropped]
        for x, metric in bl:
            hit = np.searchsorted(ats, x - L, "right") > np.searchsorted(ats, x - H, "left")
            hd = np.searchsorted(dts, x - L, "right") > np.searchsorted(dts, x - H, "left")
            if hit and not hd:
                i = int(np.searchsorted(ts, x - H, "left"))
                st = rs[min(i, len(rs) - 1)][5]
                own = st.get(metric, 0) >= 9
                c["lost breach: " + ("its own metric past FAIL" if own else "another metric")] += 1


def main() -> None:
    for d in sys.argv[1:]:
        c: collections.Counter = collections.Counter()
        for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
            one(p, c)
        print(d)
        for k in sorted(c):
            print(f"  {k}: {c[k]}")
        t = sum(v for k, v in c.items() if k.endswith("piece T"))
        fa = sum(v for k, v in c.items() if k.endswith("piece F"))
        print(f"  drop: episodes {t + fa} true {t} false {fa} precision {t / (t + fa):.3f}")


if __name__ == "__main__":
    main()
