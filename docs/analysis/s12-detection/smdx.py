"""SMD: every config of a grid, own-best F1 per machine and the F1 at the other machine's
threshold: smdx.py GRID_JSON [EXTRA_KWARGS_JSON] [MODEL_FILE defining class Model]."""
import sys, json, numpy as np, time
from streams.lab.cv import load_smd, expand
from streams.lab.scoring.pointwise import best_f1, prf
from processors.multivariate import JointDeviation
D = "/work/shared/data/smd"
data = {m: load_smd(f"{D}/{m}") for m in ("machine-2-1", "machine-3-4")}
grid = json.loads(sys.argv[1])
extra = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
cls = JointDeviation
if len(sys.argv) > 3:
    import importlib.util
    spec = importlib.util.spec_from_file_location("m", sys.argv[3]); mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod); cls = mod.Model
def run(cfg, tr, te):
    d = cls(**cfg, **extra)
    for x in tr: d.step_array(x)
    return np.array([d.step_array(x) for x in te])
t=time.time()
rows = []
for cfg in expand(grid):
    s = {m: run(cfg, tr, te) for m, (tr, te, _) in data.items()}
    fit = {m: best_f1(data[m][2], s[m]) for m in data}
    a, b = "machine-2-1", "machine-3-4"
    x21 = prf(data[a][2], s[a] >= fit[b].threshold).f1
    x34 = prf(data[b][2], s[b] >= fit[a].threshold).f1
    rows.append((cfg, fit[a].prf.f1, fit[b].prf.f1, x21, x34))
    print(cfg, f"own 2-1 {fit[a].prf.f1:.3f} 3-4 {fit[b].prf.f1:.3f} | thr 2-1 {fit[a].threshold:.3f} 3-4 {fit[b].threshold:.3f} | 3-4->2-1 {x21:.3f} 2-1->3-4 {x34:.3f}", flush=True)
ka = int(np.argmax([r[1] for r in rows])); kb = int(np.argmax([r[2] for r in rows]))
print("CV: tuned on 3-4 -> 2-1", round(rows[kb][3], 3), rows[kb][0], "| tuned on 2-1 -> 3-4", round(rows[ka][4], 3), rows[ka][0])
print(f"{time.time()-t:.0f}s")
