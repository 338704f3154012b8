"""The parents' WHEN at each `context`-led episode out of rule FAIL (s27, issue #15):
``python parentwhen.py DIR SEED [all]`` (a dir of ``docs/analysis/s13-breach/diag13.py``; the
scenario rebuilt at SEED for its dependencies; seasonal scenarios left out unless ``all``).

Per episode: true / false, scenario, component, minute, the child's next breach (min after the
start), and per parent at the window before: its emitted risk, rule FAIL (``fail`` evidence),
its ``eta_s``, its next breach and its last breach (minutes from the child's start)."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, load  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402
from streams.sim.simulator import scenario  # noqa: E402

SEASONAL = ("weekly", "daily_peaks")


def parents_at(deps, idx, br, comp, t):  # type: ignore[no-untyped-def]
    out = []
    for par in deps.get(comp, []):
        r = idx.get(par, {}).get(t - 60_000) or idx.get(par, {}).get(t)
        if r is None:
            continue
        b = np.array(sorted(br.get(par, [])), dtype=np.int64)
        nx, la = b[b > t], b[b <= t]
        out.append({"par": par, "risk": r[2], "fail": r[4].get("fail", 0.0) > 0,
                    "eta": r[3], "next": (nx[0] - t) / 60_000 if nx.size else None,
                    "last": (t - la[-1]) / 60_000 if la.size else None,
                    "ctx": r[4].get("context", 0.0)})
    return out


def main(d: str, seed: int, every: bool) -> None:
    c: collections.Counter = collections.Counter()
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        if name in SEASONAL and not every:
            continue
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
                if t == "C" or rs[a][4].get("fail", 0.0) > 0:
                    continue
                terms = rs[a][6]
                if max(terms, key=lambda k: terms[k]) != "context":
                    continue
                nx = b[b > ts[a]]
                ps = parents_at(deps, idx, br, comp, ts[a])
                pf = any(q["fail"] for q in ps)
                c[(t, "parentFAIL" if pf else "parent-noFAIL")] += 1
                print(t, f"{name:18} {comp:16} min {(ts[a] - dd['spans'][comp][0]) // 60_000:5d}",
                      f"next {((nx[0] - ts[a]) / 60_000) if nx.size else None}",
                      "; ".join(f"{q['par']} r={q['risk']:.2f} F={int(q['fail'])} eta={q['eta']}"
                                f" pnext={q['next']} plast={q['last']} pctx={q['ctx']:.2f}"
                                for q in ps))
    print(dict(c))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), len(sys.argv) > 3)
