"""The parents' trouble at each `context`-led episode that starts out of FAIL (s26, issue
#15): ``python parents.py DIR SEED`` (a dir of ``docs/analysis/s13-breach/diag13.py``; the
scenario rebuilt at SEED for its dependencies). Per episode: true / false, scenario, component,
minute, and per parent (its row at the window before) the metrics at WARN or FAIL and those
with a breach forecast (blank: neither: the parent's own risk, e.g. a grandparent's context)."""
import glob, os, sys, collections
import numpy as np
sys.path.insert(0, "docs/analysis/s23-breach"); sys.path.insert(0, "docs/analysis/s13-breach")
from episodes import THR, H
import infail
from streams.lab.scoring.breach import _episodes
from streams.sim.simulator import scenario
d = sys.argv[1]; seed = int(sys.argv[2])
C = collections.Counter()
for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
    name = os.path.basename(p)[:-4]
    sc = scenario(name, seed=seed)
    deps = {c.id: list(c.depends_on) for c in sc.components}
    dd, by, br = infail.load(p)
    idx = {comp: {r[1]: r for r in rs} for comp, rs in by.items()}
    def ptrouble(comp, ts):
        out = []
        for par in deps.get(comp, []):
            r = idx.get(par, {}).get(ts - 60000) or idx.get(par, {}).get(ts)
            if r is None: continue
            st = r[5]
            bad = sorted(k for k, s in st.items() if k != "context" and s // 3 >= 2)
            fc = sorted(k for k, s in st.items() if k != "context" and s % 3 >= 1 and s // 3 < 3)
            out.append(f"{par}:{'W/F=' + '+'.join(bad) if bad else ''}{' fc=' + '+'.join(fc) if fc else ''}")
        return "; ".join(out)
    for comp, rs in by.items():
        ts = np.array([r[1] for r in rs]); risk = np.array([r[2] for r in rs])
        b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
        fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
        end = dd["spans"][comp][1]
        for a, z in _episodes(risk >= THR):
            t = "T" if fol[a:z + 1].any() else ("C" if ts[a] + H > end else "F")
            if t == "C": continue
            base, terms = rs[a][4], rs[a][6]
            if base.get("fail", 0) > 0: continue
            top = max(terms, key=lambda k: terms[k])
            if top != "context": continue
            print(t, name, comp, ts[a] // 60000 - dd["spans"][comp][0] // 60000, ptrouble(comp, ts[a]))
