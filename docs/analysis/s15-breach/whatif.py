"""Round seven (s15): what lowering the risk inside a FAIL would do, after the fact, on
``diag13.py``'s pickles: ``python whatif.py DIR``. Per window, the window's own score (the
emitted risk where it rose above the held one; 0 where the hold spoke) is scaled by ``f``
while the component's ``fail`` evidence is set, the hold (``calibration.held``) re-applied,
and the episodes scored as ``episodes.py`` does (false episodes starting inside a FAIL of
the truth counted apart)."""
import collections
import glob
import os
import pickle
import sys

import numpy as np

from streams.lab.scoring.breach import _episodes

H, L, THR = 900_000, 300_000, 1 / 3


def rescored(ts: np.ndarray, emitted: np.ndarray, fail: np.ndarray, f: float) -> np.ndarray:
    out = np.empty_like(emitted)
    prev = pe = 0.0
    pts = None
    for j in range(len(emitted)):
        dec = max(0.0, 1 - (ts[j] - pts) / H) if pts is not None else 0.0
        own = emitted[j] if (pts is None or emitted[j] > pe * dec + 1e-12) else 0.0
        if fail[j]:
            own *= f
        out[j] = max(own, prev * dec)
        prev, pe, pts = out[j], emitted[j], ts[j]
    return out


def run(d0: str, f: float) -> None:
    c = collections.Counter()
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
            fail = np.array([r[4].get("fail", 0) > 0 for r in rs])
            risk = rescored(ts, np.array([r[2] for r in rs]), fail, f)
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            alarm = risk >= THR
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            inside = np.zeros(ts.size, bool)
            for lo, hi in d["failing"].get(comp, []):
                inside |= (ts >= lo) & (ts < hi)
            for a, z in _episodes(alarm):
                if fol[a:z + 1].any():
                    c["T"] += 1
                elif ts[a] + H <= d["spans"][comp][1]:
                    c["F"] += 1
                    c["F in FAIL"] += int(inside[a])
            ats = ts[alarm]
            for x in b.tolist():
                lo = np.searchsorted(ats, x - H, "left")
                c["missed"] += int(np.searchsorted(ats, x - L, "right") <= lo)
            c["breaches"] += b.size
    ep = c["T"] + c["F"]
    print(f"| {f} | {ep} | {c['F']} | {c['T'] / ep:.3f} | "
          f"{1 - c['missed'] / c['breaches']:.3f} | {c['F in FAIL']} |")


if __name__ == "__main__":
    for f in (1.0, 0.8, 0.6, 0.4, 0.2, 0.0):
        run(sys.argv[1], f)
