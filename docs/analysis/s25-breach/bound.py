"""What a cascade-evidence gate on the in-FAIL alarm could gain, on the emitted risk (s25,
issue #15): ``python bound.py DIR`` (a dir of ``docs/analysis/s13-breach/diag13.py``).

What-ifs, the learning unchanged: in a rule-FAIL window the alarm is dropped (risk 0) where
``oracle``: no new breach follows within the horizon; ``gate``: no other metric (below its
FAIL level band) is at WARN or has a breach forecast (outlook band >= 1). ``+latch``: not
where the component's alarm was already on from a window out of FAIL (an episode held into
the FAIL keeps going, while the alarm stays on). Episodes, false, precision, recall@5m."""
import collections
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s23-breach"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, L  # noqa: E402
from infail import comps  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402

FAIL_STATE = 9


def cascade(states: dict) -> bool:
    return any(s // 3 == 2 or s % 3 >= 1 for k, s in states.items()
               if k != "context" and s < FAIL_STATE)


def whatif(d: str, mode: str) -> str:
    c: collections.Counter = collections.Counter()
    for rs, ts, risk, f, b, fol, end in comps(d):
        risk = risk.copy()
        latched = prev = False
        for i in range(risk.size):
            on = risk[i] >= THR
            if mode == "cap":  # the option's form: in FAIL without the evidence, no rise
                if i > 0 and f[i] and not cascade(rs[i][5]):
                    risk[i] = min(risk[i], risk[i - 1])
                continue
            if f[i] and on and mode != "none":
                ok = fol[i] if mode.startswith("oracle") else cascade(rs[i][5])
                keep = (latched if mode.endswith("latch") else
                        prev if mode.endswith("start") else False)
                if not ok and not keep:
                    risk[i], on = 0.0, False
            latched, prev = on and (latched or not f[i]), on
        alarm = risk >= THR
        for a, z in _episodes(alarm):
            if fol[a:z + 1].any():
                c["T"] += 1
            elif ts[a] + H <= end:
                c["F"] += 1
        ats = ts[alarm]
        for x in b.tolist():
            c["hit"] += np.searchsorted(ats, x - L, "right") > np.searchsorted(ats, x - H, "left")
        c["breaches"] += b.size
    ep = c["T"] + c["F"]
    return (f"{mode:13} episodes {ep} true {c['T']} false {c['F']} precision {c['T'] / ep:.3f} "
            f"recall@5m {c['hit'] / c['breaches']:.3f}")


if __name__ == "__main__":
    for m in ("none", "oracle", "oracle+latch", "oracle+start", "gate", "gate+latch",
              "gate+start", "cap"):
        print(whatif(sys.argv[1], m))
