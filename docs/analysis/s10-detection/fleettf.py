import pickle, sys
from collections import defaultdict
sys.path.insert(0, "docs/analysis/s10-detection")
from fleetana import pooled
from streams.lab.scoring.breach import RiskEvent
runs = pickle.load(open("/tmp/h15/runs-base.pkl", "rb"))
thr = 1/3
TEN = ["ramp","mixed","load_surge","memory_leak_linear","memory_leak_exponential","disk_filling","noisy_neighbour","network_saturation","cascading_failure","fleet"]

def nofail(r):
    f = r["failing"]
    return [RiskEvent(e.component, e.ts_ms, 0.0 if any(a <= e.ts_ms < b for a, b in f.get(e.component, ())) else e.risk, e.eta_s) for e in r["events"]]

def persist(r, k=2):
    by = defaultdict(list); out = []
    for e in sorted(r["events"], key=lambda e: (e.component, e.ts_ms)):
        h = by[e.component]; h.append(e.risk)
        out.append(RiskEvent(e.component, e.ts_ms, min(h[-k:]), e.eta_s))
    return out

def both(r):
    rr = dict(r); rr["events"] = nofail(r); return persist(rr)

def show(name, tf, skip=()):
    a, per = pooled(runs, thr, transform=tf, skip=skip)
    print(f"{name:28s} P {a['precision']:.3f} R5 {a['recall']['300']:.3f} Brier {a['brier']:.4f} ep {a['episodes']}", flush=True)
    return per

notten = [r["scenario"] for r in runs if r["scenario"] not in TEN]
for nm, tf in (("base", None), ("no alarm in FAIL", nofail), ("persist 2", persist), ("both", both)):
    show(nm + " (13)", tf)
    show(nm + " (10 of before)", tf, skip=notten)
per = show("no alarm in FAIL per-scenario", nofail)
for s, f in per.items():
    print(f"  {s:26s} ep {f['episodes']:3d} P {f['precision']:.3f} R5 {f['recall']['300']:.3f}")
