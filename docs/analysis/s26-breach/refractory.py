"""The alarm in the horizon after a rule FAIL (s26, issue #15): ``python refractory.py DIR``
(a dir of ``docs/analysis/s13-breach/diag13.py``).

A metric whose rule was in FAIL within the horizon cannot make a new onset (its next crossing
is the same breach: the label's and the scorer's merge), so for a horizon after a FAIL only
*another* metric can. What-ifs on the emitted risk (the learning unchanged), in ``cap`` form
(the alarm at most the previous window's, as ``alarm_cascade``): the gate applied in the
windows out of rule FAIL where some metric failed lately (approximated here: its network
state at FAIL level in a rule-FAIL window within the horizon) and no other metric (not failed
lately, below its FAIL level) is at WARN or has a breach forecast; ``all``: the same evidence
rule in FAIL too (in place of s25's, which counts a lately failed metric as another).
Also: the false and true episodes that start in that period."""
import collections
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s23-breach"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H  # noqa: E402
import infail  # noqa: E402
from record import score  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402

FAIL_STATE = 9


def lately(rs: list, ts: np.ndarray, f: np.ndarray) -> list[set]:
    """Per window, the metrics at FAIL level in a rule-FAIL window within the horizon."""
    out, seen = [], collections.deque()
    for i, r in enumerate(rs):
        if f[i]:
            seen.append((ts[i], {k for k, s in r[5].items() if k != "context" and s >= FAIL_STATE}))
        while seen and seen[0][0] < ts[i] - H:
            seen.popleft()
        out.append(set().union(*(m for _, m in seen)) if seen else set())
    return out


def evidence(states: dict, failed: set) -> bool:
    return any(s < FAIL_STATE and (s // 3 == 2 or s % 3) for k, s in states.items()
               if k != "context" and k not in failed)


def main(d: str) -> None:
    for mode in ("none", "s25", "after", "all"):
        c: collections.Counter = collections.Counter()
        for rs, ts, risk, f, b, fol, end in infail.comps(d):
            risk = risk.copy()
            late = lately(rs, ts, f)
            for i in range(1, risk.size):
                st = rs[i][5]
                s25 = f[i] and not any(s < FAIL_STATE and (s // 3 == 2 or s % 3)
                                       for k, s in st.items() if k != "context")
                after = not f[i] and bool(late[i]) and not evidence(st, late[i])
                gate = {"none": False, "s25": s25, "after": s25 or after,
                        "all": (f[i] or bool(late[i])) and not evidence(st, late[i])}[mode]
                if gate:
                    risk[i] = min(risk[i], risk[i - 1])
            if mode == "none":
                for a, z in _episodes(risk >= THR):
                    t = "T" if fol[a:z + 1].any() else ("C" if ts[a] + H > end else "F")
                    if t != "C" and not f[a] and late[a]:
                        c["starts after a FAIL " + t] += 1
                        c[f"starts after a FAIL {t} evidence={evidence(rs[a][5], late[a])}"] += 1
            score(risk >= THR, ts, fol, b, end, c)
        ep = c["T"] + c["F"]
        print(f"{mode:6} episodes {ep} true {c['T']} false {c['F']} precision {c['T'] / ep:.3f}"
              f" recall@5m {c['hit'] / c['breaches']:.3f}",
              {k: v for k, v in c.items() if k.startswith("starts")})


if __name__ == "__main__":
    main(sys.argv[1])
