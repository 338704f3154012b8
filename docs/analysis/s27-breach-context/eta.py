"""The forecast ETA around each breach-led episode start out of rule FAIL (s27, issue #15):
``python eta.py DIR [all]``: per episode, true / false, scenario, component, minute, the next
breach, its length, and per window from 4 before to 2 after the start the emitted ``eta_s``
(minutes) / the ``breach`` evidence (``*``: the start)."""
import sys, os
sys.path.insert(0, os.path.dirname(__file__))
from when import rows
every = len(sys.argv) > 2
for name, comp, rs, ts, risk, b, a, z, t, s0 in rows(sys.argv[1], every):
    base, terms = rs[a][4], rs[a][6]
    if base.get("fail", 0) > 0: continue
    top = max(terms, key=lambda k: terms[k])
    if top != "breach": continue
    nx = b[b > ts[a]]
    nb = (nx[0] - ts[a]) / 60000 if nx.size else None
    hist = []
    for i in range(max(0, a - 4), min(len(rs), a + 3)):
        e = rs[i][3]
        hist.append(f"{'*' if i == a else ''}{(e/60):.1f}/{rs[i][4]['breach']:.2f}" if e is not None else f"{'*' if i == a else ''}-")
    print(t, f"{name:18} {comp:16} min {(ts[a]-s0)//60000:5d} next {nb if nb is None else round(nb,1)} len {z-a+1}", " ".join(hist))
