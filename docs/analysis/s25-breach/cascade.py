"""The in-FAIL alarm by what follows it, and by the evidence of a cascade (s25, issue #15):
``python cascade.py DIR`` (a dir of ``docs/analysis/s13-breach/diag13.py``).

Per alarm window (risk >= 1/3, label known) whose component is at FAIL by its own rules (the
window's ``fail`` evidence): the first new breach of the component within ``(ts, ts + h]``, if
any, is of *another* metric (its network state below the FAIL level band at the window: a
cascade), of a metric already past FAIL (its own FAIL again, more than a horizon after its
last one), or none follows. Cross-tabulated with the window's cascade evidence: another
metric (below FAIL) at WARN or with a breach forecast (outlook band >= 1: p >= 0.05), and
whether the component's alarm was already on in the previous window (an episode held into or
through the FAIL) or starts here."""
import collections
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s23-breach"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H  # noqa: E402
from infail import comps  # noqa: E402

FAIL_STATE = 9


def evidence(states: dict) -> str:
    others = [s for k, s in states.items() if k != "context" and s < FAIL_STATE]
    if any(s // 3 == 2 for s in others):
        return "other at WARN"
    if any(s % 3 >= 1 for s in others):
        return "other forecast"
    return "none"


def main(d: str) -> None:
    import pickle  # noqa: F401
    c: collections.Counter = collections.Counter()
    for rs, ts, risk, f, b, fol, end in comps(d):
        bm = sorted((r.breach_ms, r.metric) for r in _breaches(rs))
        alarm = risk >= THR
        for i in np.flatnonzero(alarm & f & (fol | (ts + H <= end))):
            st = rs[i][5]
            nxt = [m for t, m in bm if ts[i] < t <= ts[i] + H]
            what = ("none" if not nxt else
                    "same (past FAIL)" if st.get(nxt[0], 0) >= FAIL_STATE else "another")
            held = "held" if i > 0 and alarm[i - 1] else "starts"
            c[(what,)] += 1
            c[(what, evidence(st))] += 1
            c[(what, held)] += 1
            c[(what, held, evidence(st))] += 1
    for k in sorted(c, key=lambda k: (len(k), k)):
        print(" / ".join(k), c[k])


_B: dict = {}


def _breaches(rs):  # type: ignore[no-untyped-def]
    return _B.get(rs[0][0], [])


if __name__ == "__main__":
    import glob
    import pickle
    from episodes import load  # noqa: E402
    import infail
    orig = infail.load

    def load2(p):  # type: ignore[no-untyped-def]
        dd, by, br = orig(p)
        _B.clear()
        for bb in dd["breaches"]:
            _B.setdefault(bb.component, []).append(bb)
        return dd, by, br
    infail.load = load2
    main(sys.argv[1])
