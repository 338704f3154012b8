import sys, pickle, collections
import numpy as np
from streams.lab.scoring.breach import _episodes
d = pickle.load(open(sys.argv[1], "rb")); thr = float(sys.argv[2]) if len(sys.argv) > 2 else 1/3
H = 900_000
recs, failing = d["recs"], d["failing"]
br = collections.defaultdict(list)
for b in d["breaches"]: br[b.component].append(b.breach_ms)
t0 = d["truth_start"]
stats = collections.Counter(); drivers = collections.Counter()
for comp, rs in sorted(recs.items()):
    ts = np.array([r["ts"] for r in rs]); risk = np.array([r["risk"] for r in rs])
    b = np.sort(np.array(br.get(comp, []), dtype=np.int64))
    for a, z in _episodes(risk >= thr):
        fol = any(((b > ts[i]) & (b <= ts[i] + H)).any() for i in range(a, z + 1))
        if ts[a] + H > d["truth_end"] and not fol: continue
        infail = any(lo <= ts[a] < hi for lo, hi in failing.get(comp, []))
        r = rs[a]
        top = sorted(r["contributors"].items(), key=lambda kv: -kv[1])[:3] if isinstance(r["contributors"], dict) else r["contributors"][:3]
        stats[(fol, infail)] += 1
        if not fol:
            drivers[str(top[0][0]) if top else None] += 1
        if len(sys.argv) > 3:
            print(comp, f"{(ts[a]-t0)/3.6e6:7.2f}h", "len", z - a + 1, "TRUE" if fol else "false", "inFAIL" if infail else "", f"risk {r['risk']:.2f} an {r['anomaly']:.2f}", r["breach"] and (r["breach"]["metric"], round(r["breach"]["probability"], 2), r["breach"]["eta_s"]), top, r["source"])
print(stats); print(drivers.most_common(10))
