"""The seasonal scenarios' alarm episodes (s27, issue #15): ``python season.py DIR``
(a dir of ``docs/analysis/s13-breach/diag13.py``).

Per uncensored episode of ``weekly`` / ``daily_peaks`` whose first window is out of rule FAIL:
true / false, component, hour since the start, duration, minutes to the next breach, risk,
evidence and network states at its first window, and its group: ``ramp0`` (day 0, the 08:00
ramp), ``plateau0`` (day 0, later), ``friday`` (weekly's day 4), ``weekend`` (days 5-6),
``later`` (the rest). Then the counts per group and the oracle bound: the pooled precision
(all 13 scenarios) if every false episode of the group were dropped."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, load  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402


def group(name: str, hour: float) -> str:
    day = int(hour // 24)
    if day == 0:
        return "ramp0" if hour < 9.0 else "plateau0"
    if name == "weekly" and day == 4:
        return "friday"
    if name == "weekly" and day >= 5:
        return "weekend"
    return "later"


def main(d: str) -> None:
    c: collections.Counter = collections.Counter()
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        name = os.path.basename(p)[:-4]
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
                c[t] += 1
                base, st = rs[a][4], rs[a][5]
                if name not in ("weekly", "daily_peaks") or base.get("fail", 0.0) > 0:
                    continue
                hour = (ts[a] - s0) / 3.6e6
                g = group(name, hour)
                c[(t, g)] += 1
                nb = b[b > ts[a]][:1]
                lead = (nb[0] - ts[a]) / 60000 if nb.size else -1
                print(name, comp, t, g, f"h{hour:6.2f}", f"dur {(ts[z] - ts[a]) / 60000:4.0f} m",
                      f"next breach {lead:6.0f} m", f"risk {risk[a]:.2f}",
                      {k: round(v, 2) for k, v in base.items() if v > 0.01},
                      {k: v for k, v in st.items() if v})
    print("all: true", c["T"], "false", c["F"], f"precision {c['T'] / (c['T'] + c['F']):.3f}")
    for g in ("ramp0", "plateau0", "friday", "weekend", "later"):
        f = c[("F", g)]
        print(f"{g:9} false {f:3} true {c[('T', g)]:3} oracle precision "
              f"{c['T'] / (c['T'] + c['F'] - f):.3f}")
    f = sum(c[("F", g)] for g in ("ramp0", "plateau0", "friday", "weekend", "later"))
    print(f"all out of FAIL: false {f}, oracle precision {c['T'] / (c['T'] + c['F'] - f):.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
