"""The seasonal scenarios' alarm episodes that start IN a rule FAIL (s28, issue #15):
``python infail.py DIR`` (a dir of ``docs/analysis/s13-breach/diag13.py``).

Per uncensored episode of ``weekly`` / ``daily_peaks`` whose first window has ``fail`` evidence:
true / false, component, hour, duration, minutes since the last breach began and to the next,
risk, evidence. Then counts."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, load  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402


def main(d: str, names: tuple[str, ...] = ("weekly", "daily_peaks")) -> None:
    c: collections.Counter = collections.Counter()
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        if name not in names:
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
                base = rs[a][4]
                if t == "C" or base.get("fail", 0.0) <= 0:
                    continue
                hour = (ts[a] - s0) / 3.6e6
                c[(name, t)] += 1
                pb = b[b <= ts[a]][-1:]
                nb = b[b > ts[a]][:1]
                since = (ts[a] - pb[0]) / 60000 if pb.size else -1
                lead = (nb[0] - ts[a]) / 60000 if nb.size else -1
                prev = risk[a - 1] if a else 0.0
                print(name, comp, t, f"h{hour:6.2f}", f"dur {(ts[z] - ts[a]) / 60000:4.0f} m",
                      f"since breach {since:6.0f} m next {lead:6.0f} m",
                      f"risk {prev:.2f}->{risk[a]:.2f}",
                      {k: round(v, 2) for k, v in base.items() if v > 0.01})
    for k in sorted(c):
        print(k, c[k])


if __name__ == "__main__":
    main(sys.argv[1])
