import sys, pickle, glob
from streams.lab.backtest import breach_figures
from streams.lab.scoring.breach import Breach, RiskEvent
variant, seed = sys.argv[1], sys.argv[2]
names = sys.argv[3].split(",") if len(sys.argv) > 3 else None
ev, br, sp, fl = [], [], {}, {}
for f in sorted(glob.glob(f"/tmp/hE/runs/{variant}/*-{seed}.pkl")):
    n = f.split("/")[-1].rsplit("-", 1)[0]
    if names and n not in names: continue
    r = pickle.load(open(f, "rb"))
    g = r["figures"]
    print(f"  {n:22s} br {g['breaches']:4d} ep {g['episodes']:4d} P {g['precision']:.3f} R5 {g['recall']['300']:.3f} Brier {g['brier']:.4f}")
    ev += [RiskEvent(f"{n}:{e.component}", e.ts_ms, e.risk, e.eta_s) for e in r["events"]]
    br += [Breach(f"{n}:{b.component}", b.metric, b.breach_ms) for b in r["breaches"]]
    sp.update({f"{n}:{c}": s for c, s in r["spans"].items()})
    fl.update({f"{n}:{c}": s for c, s in r["failing"].items()})
g = breach_figures(ev, br, sp, 1/3, 900, fl)
print(variant, seed, f"POOLED br {g['breaches']} ep {g['episodes']} P {g['precision']:.3f} R5 {g['recall']['300']:.3f} Brier {g['brier']:.4f}")
