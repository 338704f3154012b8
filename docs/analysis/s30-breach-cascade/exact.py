"""Is the what-if exact? ``python exact.py BASE NEW [FORM]``: BASE a default ``diag13.py`` run,
NEW the same seed run with ``cascade_page=1``. Per scenario in NEW, ``lift.py``'s what-if on
BASE against NEW's pickled risk and alarm, window by window (and NEW's rows otherwise BASE's)."""
import glob
import os
import pickle
import sys

import numpy as np

import cascade
import lift


def main(base: str, new: str, form: str) -> None:
    f = lift.parse(form)
    import json
    s = json.load(open(os.path.join(base, "figures.json")))["seed"]
    tot = bad_r = bad_a = other = 0
    for p in sorted(glob.glob(os.path.join(new, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        scen = {name: cascade.load_scenario(os.path.join(base, name + ".pkl"), s)}
        risk, alarm, n = lift.lifted(scen, f)
        d = pickle.load(open(p, "rb"))
        b = pickle.load(open(os.path.join(base, name + ".pkl"), "rb"))
        assert len(d["rows"]) == len(b["rows"])
        other += sum(x[0] != y[0] or x[1] != y[1] or x[4:] != y[4:]
                     for x, y in zip(d["rows"], b["rows"], strict=True))
        got = {}
        for i, r in enumerate(d["rows"]):
            got.setdefault(r[0], []).append((r[2], bool(d["alarm"][i])))
        br = ba = 0
        for comp, c in scen[name].items():
            want_r = risk.get((name, comp), c.risk)
            want_a = alarm.get((name, comp), c.alarm)
            g = np.array(got[comp])
            br += int((g[:, 0] != want_r).sum())
            ba += int((g[:, 1].astype(bool) != want_a).sum())
            tot += c.ts.size
        bad_r, bad_a = bad_r + br, bad_a + ba
        print(f"{name:24} lifted {n:5} windows; risk differs {br}, alarm differs {ba}")
    print(f"windows {tot}: risk differs {bad_r}, alarm differs {bad_a}; rows' evidence differs {other}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else
         "ctx=0.3333333333333333,nofail=1")
