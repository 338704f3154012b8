import sys, pickle, collections
import numpy as np
from streams.lab.scoring.breach import _episodes
H = 900_000; thr = 1/3
def score(d, mode):
    br = collections.defaultdict(list)
    for b in d["breaches"]: br[b.component].append(b.breach_ms)
    ne = nt = 0; nb = pred = 0
    for comp, rs in d["recs"].items():
        ts = np.array([r["ts"] for r in rs]); risk = np.array([r["risk"] for r in rs])
        iv = d["failing"].get(comp, [])
        inf = np.zeros(ts.size, bool)
        for a, e in iv: inf |= (ts >= a) & (ts < e)
        b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
        if mode >= 1:
            b = np.array([x for x in b if not any(a < x < e for a, e in iv)], dtype=np.int64)
        alarm = risk >= thr
        fol = np.array([((b > t) & (b <= t + H)).any() for t in ts]) if b.size else np.zeros(ts.size, bool)
        for s, z in _episodes(alarm):
            if mode >= 1 and inf[s]: continue
            if fol[s:z+1].any(): nt += 1; ne += 1
            elif ts[s] + H > d["truth_end"]: pass
            else: ne += 1
        valid = alarm & ~inf if mode >= 2 else alarm
        at = ts[valid]
        for x in b:
            nb += 1
            pred += bool(((at >= x - H) & (at <= x - 300_000)).any())
    return ne, nt, nt / max(ne, 1), nb, pred / max(nb, 1)
for f in sys.argv[1:]:
    d = pickle.load(open(f, "rb"))
    for mode in (0, 1, 2):
        print(f.split("/")[-1], mode, "ep %d true %d P %.3f  breaches %d R5 %.3f" % score(d, mode))
