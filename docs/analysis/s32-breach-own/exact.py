"""Is ``page_growth``'s what-if exact? ``python exact.py BASE NEW``: BASE a default
``diag13.py`` run (``cascade_page`` on), NEW the same seed run with ``page_growth`` on
(``FOREWARN_PIPELINE__PAGE_GROWTH=1``; any subset of scenarios). Per scenario in NEW,
``growthgate.gated`` on BASE against NEW's pickled risk and alarm window by window (an
unfloored window's risk is the one before the floor, which only NEW knows: printed, and it must
be under the alarm point), whether every other field of the rows (component, ts, ETA,
evidence, terms) is BASE's, and NEW's figures recomputed from its pickles."""
import glob
import json
import os
import pickle
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import growthgate  # noqa: E402,I001  (puts the s30 / s31 scripts on the path)
import cascade  # noqa: E402
from parentside import floors  # noqa: E402


def main(base: str, new: str) -> None:
    seed = json.load(open(os.path.join(base, "figures.json")))["seed"]
    tot = bad_r = bad_a = other = 0
    for p in sorted(glob.glob(os.path.join(new, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        scen = {name: cascade.load_scenario(os.path.join(base, name + ".pkl"), seed)}
        risk, alarm, gone, _ = growthgate.gated(scen, {name: floors(scen[name])})
        d = pickle.load(open(p, "rb"))
        b = pickle.load(open(os.path.join(base, name + ".pkl"), "rb"))
        assert len(d["rows"]) == len(b["rows"])
        other += sum(x[0] != y[0] or x[1] != y[1] or x[3:] != y[3:]
                     for x, y in zip(d["rows"], b["rows"], strict=True))
        got: dict = {}
        for i, r in enumerate(d["rows"]):
            got.setdefault(r[0], []).append((r[2], bool(d["alarm"][i])))
        br = ba = n = 0
        for comp, c in scen[name].items():
            g = np.array(got[comp])
            drop = gone.get((name, comp), np.zeros(c.ts.size, dtype=bool))
            br += int(((g[:, 0] != risk[(name, comp)]) & ~drop).sum())
            br += int((drop & (g[:, 0] >= cascade.THR)).sum())
            ba += int((g[:, 1].astype(bool) != alarm[(name, comp)]).sum())
            tot, n = tot + c.ts.size, n + int(drop.sum())
            if drop.any():
                print(f"  {name} {comp}: {int(drop.sum())} unfloored, their risk before the "
                      f"floor {np.round(g[drop, 0], 3).tolist()}")
        bad_r, bad_a = bad_r + br, bad_a + ba
        print(f"{name:24} unfloored {n:4} windows; risk differs {br}, alarm differs {ba}")
    print(f"windows {tot}: risk differs {bad_r}, alarm differs {bad_a}; "
          f"rows otherwise differ {other}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
