"""machine-2-1: the share of each labelled segment flagged (two configs), then per segment the
metrics that deviate most against the 1,000 windows before it."""
import numpy as np
from streams.lab.cv import load_smd, joint_scores
tr, te, lab = load_smd("/work/shared/data/smd/machine-2-1")
segs = []; i = 0
while i < lab.size:
    if lab[i]:
        j = i
        while j < lab.size and lab[j]: j += 1
        segs.append((i, j)); i = j
    else: i += 1
for cfg, thr in (({"alpha":1e-4,"k":1,"smooth":0.05,"freeze":2.0}, 0.513), ({"alpha":1e-4,"k":1,"smooth":0.05,"freeze":1.0}, 0.488)):
    s = joint_scores(tr, te, cfg); f = s >= thr
    print(cfg, "thr", thr, "flagged normal rows", int((f & ~lab).sum()), "flagged anomalous", int((f & lab).sum()), "of", int(lab.sum()))
    print("   ", " ".join(f"{a}-{b}:{f[a:b].mean():.2f}" for a, b in segs))
import numpy as np
from streams.lab.cv import load_smd
tr, te, lab = load_smd("/work/shared/data/smd/machine-2-1")
for a, b in ((7907,7961),(9340,9386),(9779,9805),(12173,12181),(20020,20036),(20340,20352),(20891,20912),(16136,16588)):
    ref = te[a-1000:a]; med = np.median(ref, 0); mad = np.median(np.abs(ref - med), 0) + 1e-3 * (ref.max(0) - ref.min(0)) + 1e-9
    z = np.abs(te[a:b] - med) / mad
    zm = z.max(0); top = np.argsort(zm)[::-1][:4]
    # how often such z occurs in the reference period itself
    zr = (np.abs(ref - med) / mad).max(0)
    print(f"{a}-{b}", " ".join(f"m{j}: seg {zm[j]:.0f} / ref max {zr[j]:.0f}" for j in top))
