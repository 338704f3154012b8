"""Each alarm episode of the seasonal scenarios, one line: ``python falses.py DIR [SCENARIOS]``
(``DIR`` from ``docs/analysis/s13-breach/diag13.py``; default ``daily_peaks,weekly``).

Per uncensored episode: true/false, component, day of the trace (0: the first), weekday of
the scenario's calendar, time of day (UTC) it starts, its length in windows, whether the
component is in FAIL there, the combiner's top term and the evidence (``breach``,
``context``, ``warn``, ``growth``, ``anomaly``) at its first window, the episode's peak
risk, and the seasonal-naive look-back: whether the component breached (a new FAIL) within
a horizon of the same time of day one day earlier (``y1``), and whether it was in FAIL then
(``f1``). The last lines count false and true episodes by (day 0?, y1, f1, top term)."""
import collections
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))

from episodes import load  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402

H, THR, DAY = 900_000, 1 / 3, 86_400_000
WD = "Mon Tue Wed Thu Fri Sat Sun".split()


def rows_of(path: str) -> list[dict]:
    d, by, br = load(path)
    out = []
    for comp, rs in by.items():
        ts = np.array([r[1] for r in rs])
        risk = np.array([r[2] for r in rs])
        b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
        d0, end = d["spans"][comp][0], d["spans"][comp][1]
        fails = d["failing"].get(comp, [])
        fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
        for a, z in _episodes(risk >= THR):
            true = bool(fol[a:z + 1].any())
            if not true and ts[a] + H > end:
                continue
            t = int(ts[a])
            back = t - DAY
            y1 = bool(((b > back - H) & (b <= back + H)).any()) if back >= d0 else None
            f1 = any(lo <= back + s < hi for lo, hi in fails for s in (0, H)) \
                if back >= d0 else None
            base, terms = rs[a][4], rs[a][6]
            top = max(terms, key=lambda k: terms[k]) if terms else "-"
            out.append(dict(true=true, comp=comp, day=(t - d0) // DAY,
                            wd=WD[int((t // DAY + 3) % 7)], tod=f"{t % DAY // 3_600_000:02d}:"
                            f"{t % 3_600_000 // 60_000:02d}", n=z - a + 1,
                            infail=any(lo <= t < hi for lo, hi in fails), top=top,
                            ev={k: round(v, 2) for k, v in base.items()},
                            peak=round(float(risk[a:z + 1].max()), 2), y1=y1, f1=f1))
    return out


def main() -> None:
    d = sys.argv[1]
    names = (sys.argv[2] if len(sys.argv) > 2 else "daily_peaks,weekly").split(",")
    tally = collections.Counter()
    for n in names:
        print(f"== {n}")
        for e in sorted(rows_of(os.path.join(d, n + ".pkl")), key=lambda e: (e["day"], e["tod"])):
            print(f"{'T' if e['true'] else 'F'} {e['comp']:8} d{e['day']} {e['wd']} {e['tod']} "
                  f"n={e['n']:3} inFAIL={int(e['infail'])} top={e['top']:8} peak={e['peak']} "
                  f"y1={e['y1']} f1={e['f1']} {e['ev']}")
            key = ("day0" if e["day"] == 0 else f"y1={e['y1']},f1={e['f1']}", e["top"])
            tally[("T" if e["true"] else "F",) + key] += 1
    for k, v in sorted(tally.items()):
        print(k, v)


if __name__ == "__main__":
    main()
