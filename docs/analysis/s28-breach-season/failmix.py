"""The seasonal scenarios' FAIL time and breaches per web, day and metric, and, per alarm
episode that starts in a rule FAIL, the metrics in FAIL and those that name a cascade
(s28, issue #15): ``python failmix.py DIR [SCENARIOS]``."""
import collections
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, load  # noqa: E402

from processors.actsignal import cascade_named  # noqa: E402
from streams.lab.scoring.breach import _episodes  # noqa: E402

FAIL_STATE = 9


def main(d: str, names: tuple[str, ...]) -> None:
    ev: collections.Counter = collections.Counter()
    for name in names:
        dd, by, br = load(os.path.join(d, name + ".pkl"))
        nb = collections.Counter((b.component, b.metric) for b in dd["breaches"])
        print(name, "breaches", dict(nb))
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs])
            risk = np.array([r[2] for r in rs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            s0, end = dd["spans"][comp]
            for a, z in _episodes(risk >= THR):
                t = "T" if fol[a:z + 1].any() else ("C" if ts[a] + H > end else "F")
                if t == "C" or rs[a][4].get("fail", 0.0) <= 0:
                    continue
                st = rs[a][5]
                failed = sorted(k for k, s in st.items() if s >= FAIL_STATE and k != "context")
                named = sorted(k for k, s in st.items() if k != "context" and s < FAIL_STATE
                               and (s >= 6 or s % 3))
                gate = not cascade_named(st)
                ev[(t, "+".join(failed), "+".join(named) or "-")] += 1
                ev[(t, "gate" if gate else "named")] += 1
    for k in sorted(ev, key=lambda k: (k[0], -ev[k])):
        print(k, ev[k])


if __name__ == "__main__":
    main(sys.argv[1], tuple(sys.argv[2].split(",")) if len(sys.argv) > 2
         else ("daily_peaks", "weekly"))
