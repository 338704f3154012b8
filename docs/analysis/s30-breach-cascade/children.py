"""The cascade children missed at 5 min, and what paging them would cost (s30, issue #15):
``python children.py DIR [--list]`` (DIR: a ``diag13.py`` run; tuning seeds only).

1. Every breach missed at 5 min (no window at risk >= 1/3 in ``[b - h, b - 5 min]``) of a
   component with parents, over those windows ``W``: whether a parent paged (its alarm state)
   in ``W``, the parents' largest risk, whether a parent breached in ``[b - h, b)`` (the root),
   the child's own largest risk and ``context``.
2. The precision cost: every page of a parent (a run of its alarm state), and per child of it:
   whether the child breached in ``(page start, page end + h]``, and whether the child paged
   itself (its own alarm) in that span."""
import collections
import sys

import numpy as np

import cascade
from cascade import H, L, THR


def missed(scen: dict) -> list[dict]:
    out = []
    for name, comps in scen.items():
        for comp, c in comps.items():
            if not c.parents:
                continue
            for b in c.breaches.tolist():
                w = (c.ts >= b - H) & (c.ts <= b - L)
                if (c.risk[w] >= THR).any():
                    continue
                m = {"scenario": name, "comp": comp, "b": b, "n": int(w.sum()),
                     "ctx": float(c.context[w].max()) if w.any() else 0.0,
                     "risk": float(c.risk[w].max()) if w.any() else 0.0,
                     "late": bool(((c.ts > b - L) & (c.ts < b) & (c.risk >= THR)).any())}
                pages, prisk, root, first = False, 0.0, None, None
                for p in c.parents:
                    q = scen[name][p]
                    pw = (q.ts >= b - H) & (q.ts <= b - L)
                    pages |= bool(q.alarm[pw].any())
                    prisk = max(prisk, float(q.risk[pw].max()) if pw.any() else 0.0)
                    if pw.any() and q.alarm[pw].any():
                        t0 = q.ts[pw][q.alarm[pw]][0]
                        first = (b - t0) / 6e4 if first is None else max(first, (b - t0) / 6e4)
                    pb = q.breaches[(q.breaches >= b - H) & (q.breaches < b)]
                    if pb.size:
                        root = max(root or 0.0, (b - pb.min()) / 6e4)
                m.update(parent_pages=pages, parent_risk=prisk, root_min=root,
                         page_lead_min=first)
                out.append(m)
    return out


def cost(scen: dict) -> collections.Counter:
    c = collections.Counter()
    for name, comps in scen.items():
        for comp, q in comps.items():
            if not q.children:
                continue
            edges = np.diff(np.concatenate(([0], q.alarm.astype(np.int8), [0])))
            for a, z in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1,
                            strict=True):
                t0, t1 = q.ts[a], q.ts[z]
                c["parent pages"] += 1
                for ch in q.children:
                    k = comps[ch]
                    c["child x page"] += 1
                    bre = bool(((k.breaches > t0) & (k.breaches <= t1 + H)).any())
                    own = bool(k.alarm[(k.ts >= t0) & (k.ts <= t1)].any())
                    hi = (k.ts >= t0) & (k.ts <= t1)
                    ctx = float(k.context[hi].max()) if hi.any() else 0.0
                    c[f"breach={int(bre)} ownpage={int(own)}"] += 1
                    c[f"breach={int(bre)} ctx>=0.3={int(ctx >= 0.3)}"] += 1
    return c


def main(d: str, listing: bool) -> None:
    seed, scen = cascade.load(d)
    ms = missed(scen)
    print(f"seed {seed}: missed@5m on children {len(ms)}")
    if listing:
        for m in ms:
            print(f"  {m['scenario']:18} {m['comp']:16} min {m['b'] / 6e4 % 100000:9.0f} n {m['n']:2} "
                  f"ctx {m['ctx']:.2f} risk {m['risk']:.2f} late {int(m['late'])} | parent "
                  f"pages {int(m['parent_pages'])} lead {m['page_lead_min']} risk "
                  f"{m['parent_risk']:.2f} root {m['root_min']}")
    for key in ("parent_pages", "scenario"):
        print(f"  by {key}:", dict(collections.Counter(m[key] for m in ms).most_common()))
    print("  ctx>=0.3 & parent pages:", sum(m["ctx"] >= 0.3 and m["parent_pages"] for m in ms))
    print("  cost:", dict(sorted(cost(scen).items())))


if __name__ == "__main__":
    main(sys.argv[1], "--list" in sys.argv)
