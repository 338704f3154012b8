import sys, pickle, glob, collections
import numpy as np
from streams.lab.scoring.breach import _episodes
H = 900_000
for v in sys.argv[1:]:
    c = collections.Counter()
    for f in glob.glob(f"/tmp/hE/runs/{v}/*-42.pkl"):
        n = f.split("/")[-1].rsplit("-", 1)[0]
        r = pickle.load(open(f, "rb"))
        byc = collections.defaultdict(list)
        for e in r["events"]: byc[e.component].append(e)
        br = collections.defaultdict(list)
        for b in r["breaches"]: br[b.component].append(b.breach_ms)
        for comp, evs in byc.items():
            evs.sort(key=lambda e: e.ts_ms)
            ts = np.array([e.ts_ms for e in evs]); risk = np.array([e.risk for e in evs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            end = r["spans"][comp][1]
            for a, z in _episodes(risk >= 1/3):
                fol = any(((b > ts[i]) & (b <= ts[i] + H)).any() for i in range(a, z + 1)) if b.size else False
                if not fol and ts[a] + H > end: continue
                inf = any(lo <= ts[a] < hi for lo, hi in r["failing"].get(comp, []))
                seas = n in ("daily_peaks", "weekly")
                c[("true" if fol else "false", "inFAIL" if inf else "out", "seasonal" if seas else "other")] += 1
    print(v, sorted(c.items()))
