import sys, pickle, collections
import numpy as np
d = pickle.load(open(sys.argv[1], "rb")); H = 900_000
br = collections.defaultdict(list)
for b in d["breaches"]: br[b.component].append(b.breach_ms)
for infail in (True, False):
    R = []; Y = []
    for comp, rs in d["recs"].items():
        b = np.array(sorted(br.get(comp, [])))
        for r in rs:
            f = any(lo <= r["ts"] < hi for lo, hi in d["failing"].get(comp, []))
            if f != infail: continue
            y = bool(((b > r["ts"]) & (b <= r["ts"] + H)).any()) if b.size else False
            R.append(r["risk"]); Y.append(y)
    R = np.array(R); Y = np.array(Y)
    print("inFAIL" if infail else "notFAIL", "n", len(R), "rate %.3f meanrisk %.3f" % (Y.mean(), R.mean()))
    for lo, hi in [(0, .1), (.1, .2), (.2, 1/3), (1/3, .5), (.5, .7), (.7, 1.01)]:
        s = (R >= lo) & (R < hi)
        if s.sum(): print(f"   risk [{lo:.2f},{hi:.2f}) n {s.sum():5d} freq {Y[s].mean():.3f}")
