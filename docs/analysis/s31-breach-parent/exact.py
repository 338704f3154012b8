"""Is ``cascade_rooted``'s what-if exact? ``python exact.py BASE NEW``: BASE a default
``diag13.py`` run (``cascade_page`` on), NEW the same seed run with ``cascade_rooted=1`` (any
subset of scenarios). Per scenario in NEW, ``parentside.unfloor(..., keep_rooted)`` on BASE
against NEW's pickled alarm window by window, and its risk where the what-if did not unfloor
(an unfloored window's risk is the one before the floor, which only NEW knows: printed), and
whether every other field of the rows (component, ts, evidence, terms) is BASE's."""
import glob
import json
import os
import pickle
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parentside  # noqa: E402,I001  (puts s30-breach-cascade on the path)
import cascade  # noqa: E402


def check(base: str, new: str, whatif) -> None:  # type: ignore[no-untyped-def]
    """Per scenario in NEW, ``whatif(scen, name)`` (its risk, alarm and unfloored windows by
    ``(scenario, component)``, and their count) against NEW's pickled risk and alarm window by
    window, and whether every other field of the rows is BASE's (s32's ``exact.py`` too)."""
    seed = json.load(open(os.path.join(base, "figures.json")))["seed"]
    tot = bad_r = bad_a = other = 0
    for p in sorted(glob.glob(os.path.join(new, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        scen = {name: cascade.load_scenario(os.path.join(base, name + ".pkl"), seed)}
        risk, alarm, gone, n = whatif(scen, name)
        d = pickle.load(open(p, "rb"))
        b = pickle.load(open(os.path.join(base, name + ".pkl"), "rb"))
        assert len(d["rows"]) == len(b["rows"])
        other += sum(x[0] != y[0] or x[1] != y[1] or x[3:] != y[3:]
                     for x, y in zip(d["rows"], b["rows"], strict=True))
        got: dict = {}
        for i, r in enumerate(d["rows"]):
            got.setdefault(r[0], []).append((r[2], bool(d["alarm"][i])))
        br = ba = 0
        for comp, c in scen[name].items():
            want_r = risk.get((name, comp), c.risk)
            want_a = alarm.get((name, comp), c.alarm)
            g = np.array(got[comp])
            drop = gone.get((name, comp), np.zeros(c.ts.size, dtype=bool))
            br += int(((g[:, 0] != want_r) & ~drop).sum())
            br += int((drop & (g[:, 0] >= cascade.THR)).sum())  # unfloored: under the point
            ba += int((g[:, 1].astype(bool) != want_a).sum())
            tot += c.ts.size
            if drop.any():
                print(f"  {name} {comp}: {int(drop.sum())} unfloored, their risk before the "
                      f"floor {np.round(g[drop, 0], 3).tolist()}")
        bad_r, bad_a = bad_r + br, bad_a + ba
        print(f"{name:24} unfloored {n:4} windows; risk differs {br}, alarm differs {ba}")
    print(f"windows {tot}: risk differs {bad_r}, alarm differs {bad_a}; "
          f"rows otherwise differ {other}")


def rooted(scen: dict, name: str) -> tuple:
    """``cascade_rooted``'s what-if of one scenario."""
    fls = {name: parentside.floors(scen[name])}
    return parentside.unfloor(scen, fls, parentside.keep_rooted)


def main(base: str, new: str) -> None:
    check(base, new, rooted)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
