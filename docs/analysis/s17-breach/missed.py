"""Breaches missed at 5 minutes' lead in one run and not the other:
``python missed.py BEFORE/SCEN.pkl AFTER/SCEN.pkl`` (``diag13.py`` pickles): each newly
missed and newly caught breach by component, metric, day of the trace and time of day."""
import collections
import pickle
import sys

import numpy as np

H, L, THR, DAY = 900_000, 300_000, 1 / 3, 86_400_000


def missed(path: str) -> tuple[set, dict]:
    d = pickle.load(open(path, "rb"))
    by = collections.defaultdict(list)
    for r in d["rows"]:
        by[r[0]].append(r)
    out = set()
    for b in d["breaches"]:
        rs = by[b.component]
        ts = np.array([r[1] for r in rs])
        ats = ts[np.array([r[2] for r in rs]) >= THR]
        lo = np.searchsorted(ats, b.breach_ms - H, "left")
        hi = np.searchsorted(ats, b.breach_ms - L, "right")
        if hi <= lo:
            out.add((b.component, b.metric, b.breach_ms))
    return out, d


def main() -> None:
    a, d = missed(sys.argv[1])
    b, _ = missed(sys.argv[2])
    d0 = min(s[0] for s in d["spans"].values())
    for what, got in (("newly missed", b - a), ("newly caught", a - b)):
        for c, m, t in sorted(got, key=lambda x: x[2]):
            print(what, c, m, "day", (t - d0) // DAY,
                  f"{t % DAY // 3_600_000:02d}:{t % 3_600_000 // 60_000:02d}")


if __name__ == "__main__":
    main()
