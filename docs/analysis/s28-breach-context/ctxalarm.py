"""The count behind ``context_alarm`` (s28, issue #15): ``python ctxalarm.py DIR SEED``
(a dir of ``docs/analysis/s13-breach/diag13.py``; the scenario rebuilt at SEED for its
dependencies; run from the tree's root with ``PYTHONPATH=.``).

Per ``context``-led episode (uncensored; all 13 scenarios): true / false, whether the child's
``context`` at its start exceeds by more than 0.3 what its parents' ALARM says (their emitted
risk, or their rule status from the ``fail`` / ``warn`` evidence: 1 / 0.5, at the window and the
one before): ``actonly`` (the context came from a parent's ``act``, the unweighed risk its own
alarm had discounted) or ``same``; and in or out of the child's rule FAIL."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, load  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402
from streams.sim.simulator import scenario  # noqa: E402

d, seed = sys.argv[1], int(sys.argv[2])
c = collections.Counter()
for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
    name = os.path.basename(p)[:-4]
    sc = scenario(name, seed=seed)
    deps = {x.id: list(x.depends_on) for x in sc.components}
    dd, by, br = load(p)
    idx = {comp: {r[1]: r for r in rs} for comp, rs in by.items()}
    for comp, rs in by.items():
        ts = np.array([r[1] for r in rs])
        risk = np.array([r[2] for r in rs])
        b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
        fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
        end = dd["spans"][comp][1]
        for a, z in _episodes(risk >= THR):
            t = "T" if fol[a:z + 1].any() else ("C" if ts[a] + H > end else "F")
            if t == "C":
                continue
            terms = rs[a][6]
            if max(terms, key=lambda k: terms[k]) != "context":
                continue
            ctx = rs[a][4].get("context", 0.0)
            pa = []
            for par in deps.get(comp, []):
                for dt in (0, 60_000):
                    r = idx.get(par, {}).get(ts[a] - dt)
                    if r is not None:
                        ev = r[4]
                        st = 1.0 if ev.get("fail", 0) > 0 else 0.5 if ev.get("warn", 0) > 0 else 0.0
                        pa.append(max(r[2], st))
            pal = max(pa) if pa else float("nan")
            inf = rs[a][4].get("fail", 0.0) > 0
            cls = "actonly" if pal < ctx - 0.3 else "same"
            c[(t, cls, "inF" if inf else "out")] += 1
            m = (ts[a] - dd["spans"][comp][0]) // 60000
            print(t, cls, f"{name:20} {comp:16} min {m:5d} len {z - a + 1:3d} ctx {ctx:.2f}"
                  f" parent alarm {pal:.2f} peak {risk[a:z + 1].max():.2f}")
print(dict(c))
