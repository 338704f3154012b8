"""Whether a breach forecast's crossing approaches (s27, issue #15): ``python approach.py DIR
[TOL_S]`` (a dir of ``docs/analysis/s13-breach/diag13.py``).

The forecast's crossing time ``T = ts + eta`` (the window's best breach estimate). On a ramp
that goes on to its FAIL level, ``T`` holds or comes closer from window to window; on a ramp
that levels off under it (a daily ramp's top, read by a trend line), ``T`` recedes: the
crossing stays "ten minutes out". Prints (1) per uncensored episode whose first window has a
forecast, out of rule FAIL: true / false, scenario, and whether its crossing was approaching
there (``T`` <= the previous window's ``T`` + TOL_S; ``new``: no forecast the window before);
(2) what-ifs on the emitted risk (learning unchanged), cap form: at a window with a breach
forecast whose crossing is not approaching (``recede``: receding only; ``unconfirmed``:
receding or new) and where the breach term is the combiner's largest, the alarm is at most
the previous window's."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s23-breach"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s26-breach"))
from episodes import THR, H  # noqa: E402
import infail  # noqa: E402
from record import score  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402


def kinds(rs: list, ts: np.ndarray, tol_ms: float) -> list[str]:
    """Per window: '' (no forecast), 'new', 'approach' or 'recede'."""
    out, prev = [], None
    for i, r in enumerate(rs):
        eta = r[3]
        if eta is None:
            out.append("")
            prev = None
            continue
        t = ts[i] + eta * 1000.0
        out.append("new" if prev is None else ("approach" if t <= prev + tol_ms else "recede"))
        prev = t
    return out


def main(d: str, tol_s: float) -> None:
    c: collections.Counter = collections.Counter()
    w = {m: collections.Counter() for m in ("none", "recede", "unconfirmed", "unconf_any")}
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        dd, by, br = infail.load(p)
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs])
            risk0 = np.array([r[2] for r in rs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            end = dd["spans"][comp][1]
            k = kinds(rs, ts, tol_s * 1000.0)
            for a, z in _episodes(risk0 >= THR):
                t = "T" if fol[a:z + 1].any() else ("C" if ts[a] + H > end else "F")
                if t == "C" or rs[a][4].get("fail", 0.0) > 0 or not k[a]:
                    continue
                terms = rs[a][6]
                top = max(terms, key=lambda x: terms[x])
                seas = name if name in ("weekly", "daily_peaks") else "other"
                c[(t, seas, top == "breach", k[a])] += 1
            for mode, cc in w.items():
                risk = risk0.copy()
                for i in range(1, risk.size):
                    terms = rs[i][6]
                    lead = max(terms, key=lambda x: terms[x]) == "breach"
                    bad = k[i] == "recede" or (mode != "recede" and k[i] == "new")
                    if mode != "none" and bad and (lead or mode == "unconf_any"):
                        risk[i] = min(risk[i], risk[i - 1])
                score(risk >= THR, ts, fol, b, end, cc)
                if name in ("weekly", "daily_peaks"):
                    score(risk >= THR, ts, fol, b, end, cc.setdefault("seas", collections.Counter()))
    for key in sorted(c):
        print(" / ".join(map(str, key)), c[key])
    for mode, cc in w.items():
        ep = cc["T"] + cc["F"]
        s = cc.get("seas", collections.Counter())
        print(f"{mode:12} episodes {ep} true {cc['T']} false {cc['F']} precision {cc['T'] / ep:.3f}"
              f" recall@5m {cc['hit'] / cc['breaches']:.3f}  (weekly+daily_peaks: T {s['T']}"
              f" F {s['F']} recall {s['hit'] / max(1, s['breaches']):.3f})")


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
