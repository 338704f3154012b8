"""Threshold transfer as a quantile of the series' own probation scores (first 15 %)."""
import itertools
import numpy as np
from pathlib import Path
from streams.lab.cv import load_smd
from streams.lab.scoring.pointwise import best_f1, prf
from processors.multivariate import JointDeviation

data = {m.name: load_smd(m) for m in sorted(p.parent for p in Path("/work/shared/data/smd").glob("*/test_label.csv"))}
def run(tr, te, smooth, freeze):
    det = JointDeviation(alpha=1e-4, k=1, smooth=smooth, freeze=freeze)
    rows = np.vstack([tr, te]); s = np.array([det.step_array(x) for x in rows])
    prob = int(0.15 * len(rows))
    return s[tr.shape[0]:], s[det.warm:prob]
grid = list(itertools.product((0.1, 0.05, 0.2, 0.3), (1.0, 0.5, 2.0, 0.0)))
S = {(c, m): run(tr, te, *c) for c in grid for m, (tr, te, _) in data.items()}
for a in data:
    fits = [(best_f1(data[a][2], S[(c, a)][0]), c) for c in grid]
    fit, c = max(fits, key=lambda t: t[0].prf.f1)
    t = fit.threshold
    p = float(np.mean(S[(c, a)][1] < t))
    for b in data:
        if b == a: continue
        tb = float(np.quantile(S[(c, b)][1], p)) if p < 1 else float(S[(c, b)][1].max())
        for name, thr in (("same threshold", t), (f"probation quantile p={p:.5f}", tb)):
            pw = prf(data[b][2], S[(c, b)][0] >= thr)
            print(a, "->", b, c, name, "thr %.4f F1 %.3f (P %.2f R %.2f)" % (thr, pw.f1, pw.precision, pw.recall))
