"""NAB leave-one-category-out over a grid given as JSON: nabgrid.py GRID_JSON [detector] [out.json]."""
import json, sys, time
from streams.lab.cv import nab_cv
grid = {k: tuple(v) for k, v in json.loads(sys.argv[1]).items()}
det = sys.argv[2] if len(sys.argv) > 2 else "novelty"
t = time.time()
res = nab_cv("/work/shared/data/nab", det, grid)
out = {}
for p, r in res.items():
    print(f"{p[:12]:12s} all-in {r.all_in:.1f} cv {r.mean:.1f} ± {r.spread:.1f} pooled {r.pooled:.1f} | "
          + " ".join(f"{f.held_out[:8]}={f.score:.1f}" for f in r.folds[1:]) + f"  cfg {dict(r.all_in_config)}")
    if p == "standard":
        for f in r.folds: print("    ", f.held_out, dict(f.config), round(f.threshold, 3))
    out[p] = r.as_dict()
if len(sys.argv) > 3:
    json.dump(out, open(sys.argv[3], "w"), default=str)
print(f"{time.time()-t:.0f}s")
