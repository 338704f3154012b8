"""Per-series freeze from the probation period (first 15 % of the stream), SMD fold check."""
import sys, itertools
import numpy as np
from streams.lab.cv import load_smd
from streams.lab.scoring.pointwise import best_f1, prf
from processors.multivariate import JointDeviation
from pathlib import Path

data = {m.name: load_smd(m) for m in sorted(p.parent for p in Path("/work/shared/data/smd").glob("*/test_label.csv"))}

def scores(tr, te, smooth, q):
    det = JointDeviation(alpha=1e-4, k=1, smooth=smooth, freeze=0.0 if q else 1.0)
    rows = np.vstack([tr, te]); n = rows.shape[0]; prob = int(0.15 * n)
    zs = []; out = []
    for i, x in enumerate(rows):
        s = det.step_array(x)
        if q and i < prob and det.n > det.warm:
            zs.append(det.last_z)
        if q and i == prob - 1:
            det.freeze = max(float(np.quantile(zs, q)), 1e-6)
        if i >= tr.shape[0]:
            out.append(s)
    return np.array(out), (det.freeze if q else None)

grid = list(itertools.product((0.1, 0.05, 0.2, 0.3), (float(a) for a in sys.argv[1].split(","))))
S = {}
for cfg in grid:
    for m, (tr, te, lab) in data.items():
        S[(cfg, m)] = scores(tr, te, *cfg)
        print(cfg, m, "freeze", S[(cfg, m)][1], "oracle F1 %.3f" % best_f1(lab, S[(cfg, m)][0]).prf.f1, flush=True)
for a in data:
    fits = [(best_f1(data[a][2], S[(c, a)][0]), c) for c in grid]
    fit, c = max(fits, key=lambda t: t[0].prf.f1)
    for b in data:
        if b == a: continue
        pw = prf(data[b][2], S[(c, b)][0] >= fit.threshold)
        print("tuned on", a, "cfg", c, "train F1 %.3f" % fit.prf.f1, "-> held out", b, "F1 %.3f (P %.2f R %.2f)" % (pw.f1, pw.precision, pw.recall))
