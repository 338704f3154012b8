"""The count behind ``context_stood`` (s29, issue #15): ``python stood.py DIR SEED``
(a dir of ``docs/analysis/s13-breach/diag13.py``; run from the tree's root, ``PYTHONPATH=.``).

Per ``context``-led episode (uncensored, all 13 scenarios) whose ``context`` exceeds by more
than 0.3 what its parents' alarm says (their emitted risk or rule status, as s28's
``ctxalarm.py``: the context came from a parent's ``act``, the unweighed risk its alarm
discounted; the status read from the parents' metric states too, unweighed by ``warn_trust``):
whether that parent's concern STOOD, i.e. in two consecutive windows within the
horizon before the episode's start some rule metric below FAIL was at WARN or had a breach
forecast (``actsignal.cascade_named``'s test on the window's network states), or was a
one-window blip. True / false by class."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, load  # noqa: E402

from processors.actsignal import WARN_STATE  # noqa: E402
from processors.bayesnet import FAIL_STATE  # noqa: E402
from processors.contextstood import named  # noqa: E402
from streams.lab.scoring.breach import _episodes  # noqa: E402
from streams.sim.simulator import scenario  # noqa: E402


def stood(rows: list, t: int) -> bool:
    """Some metric named in two consecutive windows of ``rows`` ending in ``(t - H, t]``."""
    w = [r for r in rows if t - H < r[1] <= t]
    return any(named(a[5]) & named(b[5]) for a, b in zip(w, w[1:], strict=False))


d, seed = sys.argv[1], int(sys.argv[2])
c = collections.Counter()
for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
    name = os.path.basename(p)[:-4]
    deps = {x.id: list(x.depends_on) for x in scenario(name, seed=seed).components}
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
            terms = rs[a][6]
            if t == "C" or max(terms, key=lambda k: terms[k]) != "context":
                continue
            ctx = rs[a][4].get("context", 0.0)
            pal, st = 0.0, []
            for par in deps.get(comp, []):
                for dt in (0, 60_000):
                    r = idx.get(par, {}).get(ts[a] - dt)
                    if r is not None:
                        ev = r[4]
                        s = 1.0 if ev.get("fail", 0) > 0 else 0.5 if ev.get("warn", 0) > 0 else 0.0
                        lv = [v for k, v in r[5].items() if k != "context"]  # unweighed status
                        s = max(s, 1.0 if max(lv, default=0) >= FAIL_STATE else 0.5
                                if max(lv, default=0) >= WARN_STATE else 0.0)
                        pal = max(pal, r[2], s)
                st.append(stood(by.get(par, []), ts[a]))
            if pal >= ctx - 0.3:
                cls = "same"
            else:
                cls = "stood" if any(st) else "blip"
            c[(t, cls)] += 1
            m = (ts[a] - dd["spans"][comp][0]) // 60000
            if cls != "same":
                print(t, cls, f"{name:20} {comp:16} min {m:5d} len {z - a + 1:3d} ctx {ctx:.2f}"
                      f" parent alarm {pal:.2f}")
print(dict(sorted(c.items())))
