"""Analyse a pickled fleet dump: pooled figures, false episodes; optional risk transforms."""
import pickle, sys, math
from collections import defaultdict
import numpy as np
from streams.lab.backtest import breach_figures
from streams.lab.scoring.breach import RiskEvent, Breach

def pooled(runs, thr, h=900, transform=None, skip=()):
    ev, br, sp, fl = [], [], {}, {}
    per = {}
    for r in runs:
        if r["scenario"] in skip: continue
        evs = r["events"] if transform is None else transform(r)
        ev += [RiskEvent(f"{r['scenario']}:{e.component}", e.ts_ms, e.risk, e.eta_s) for e in evs]
        br += [Breach(f"{r['scenario']}:{b.component}", b.metric, b.breach_ms) for b in r["breaches"]]
        sp.update({f"{r['scenario']}:{c}": s for c, s in r["spans"].items()})
        fl.update({f"{r['scenario']}:{c}": s for c, s in r["failing"].items()})
        per[r["scenario"]] = breach_figures(evs, r["breaches"], r["spans"], thr, h, r["failing"])
    return breach_figures(ev, br, sp, thr, h, fl), per

def episodes(runs, thr, h=900):
    out = []
    for r in runs:
        byc = defaultdict(list)
        for e in r["events"]: byc[e.component].append(e)
        brs = defaultdict(list)
        for b in r["breaches"]: brs[b.component].append(b.breach_ms)
        for c, evs in byc.items():
            evs.sort(key=lambda e: e.ts_ms)
            b = np.sort(np.array(brs[c], dtype=np.int64))
            fails = r["failing"].get(c, [])
            i = 0
            while i < len(evs):
                if evs[i].risk < thr: i += 1; continue
                j = i
                while j < len(evs) and evs[j].risk >= thr: j += 1
                ts = np.array([e.ts_ms for e in evs[i:j]])
                true = any(((b > t) & (b <= t + h*1000)).any() for t in ts)
                end = r["spans"][c][1]
                cens = (not true) and ts[0] + h*1000 > end
                prev = b[b <= ts[0]]; nxt = b[b > ts[0]]
                infail = any(a <= ts[0] < z for a, z in fails)
                out.append(dict(sc=r["scenario"], comp=c, start=int(ts[0]), n=j-i, true=true, cens=cens,
                    peak=max(e.risk for e in evs[i:j]),
                    since=(ts[0]-prev[-1])/1000 if prev.size else None,
                    to=(nxt[0]-ts[0])/1000 if nxt.size else None, infail=infail))
                i = j
    return out

if __name__ == "__main__":
    runs = pickle.load(open(sys.argv[1], "rb"))
    thr = float(sys.argv[2]) if len(sys.argv) > 2 else 1/3
    allf, per = pooled(runs, thr)
    print("ALL", allf["breaches"], allf["episodes"], round(allf["precision"], 3), round(allf["recall"]["300"], 3), round(allf["brier"], 4))
    for s, f in per.items():
        print(f"  {s:26s} br {f['breaches']:3d} ep {f['episodes']:3d} P {f['precision']:.3f} R5 {f['recall']['300']:.3f}")
    eps = [e for e in episodes(runs, thr) if not e["true"] and not e["cens"]]
    print("false episodes", len(eps))
    for e in eps:
        print(f"  {e['sc']:24s} {e['comp']:14s} n={e['n']:3d} peak={e['peak']:.2f} since={e['since']} to={e['to']} infail={e['infail']}")
