"""Which pages the stack and each option move (s33, issue #15): ``python overlap.py BASE STACK
[NAME=DIR ...]``: the pages of a default run BASE, of the stack's run STACK and of each single
option's run NAME=DIR (all ``diag13.py`` runs of one seed), and per page gone from or new in
any of them, which runs lose or add it. A page is an episode of the alarm state as the breach
scorer counts it (true: a window at or over the alarm point followed by a breach within the
horizon; censored: opened within a horizon of the span's end, left out), keyed by scenario,
component and opening minute (from the scenario's first window); its class the opening window's
largest positive log-odds term (``floor``: its risk is ``cascade_page``'s floor, the alarm
point). A page delayed by a window counts as gone and new. A run with only some scenarios
(``morning_eta``'s ``o42``, a partial run) has BASE's pages elsewhere. Unlike s31's
``parentside.all_pages`` it checks no floor bookkeeping (that asserts on seed 15)."""
import glob
import os
import pickle
import sys
from collections import Counter
from types import SimpleNamespace

from streams.lab.scoring.breach import Breach, _episodes, _followed, _group

THR, H_MS = 1 / 3, 900_000


def scenario_pages(name: str, d: dict) -> dict:
    ev = [SimpleNamespace(component=r[0], ts_ms=r[1], risk=r[2], eta_s=r[3], alarm=a)
          for r, a in zip(d["rows"], d["alarm"], strict=True)]
    terms = {(r[0], r[1]): r[6] for r in d["rows"]}
    t0 = min(r[1] for r in d["rows"])
    comps = _group(ev, [Breach(b.component, b.metric, b.breach_ms) for b in d["breaches"]],
                   d["spans"], d["failing"])
    out = {}
    for comp, c in comps.items():
        if c.alarm is None:
            continue
        followed = _followed(c.ts, c.breaches, H_MS)
        over = c.risk >= THR
        for a, z in _episodes(c.alarm):
            true = bool((followed[a:z + 1] & over[a:z + 1]).any())
            if not true and c.ts[a] + H_MS > c.span_end:
                continue
            pos = {k: v for k, v in terms[(comp, int(c.ts[a]))].items() if v > 0.0}
            cls = ("floor" if abs(c.risk[a] - THR) < 1e-12
                   else max(pos, key=lambda k: pos[k]) if pos else "-")
            out[(name, comp, round((int(c.ts[a]) - t0) / 60000))] = {"true": true, "cls": cls}
    return out


def pages(d: str) -> tuple[dict, set]:
    out, names = {}, set()
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        names.add(name)
        out.update(scenario_pages(name, pickle.load(open(p, "rb"))))
    return out, names


def filled(run: tuple[dict, set], base: dict) -> dict:
    """``run``'s pages, BASE's in the scenarios it did not run."""
    own, names = run
    return {**{k: p for k, p in base.items() if k[0] not in names}, **own}


def main(base: str, stack: str, singles: list[str]) -> None:
    b, _ = pages(base)
    runs = {"stack": filled(pages(stack), b)}
    for s in singles:
        name, d = s.split("=", 1)
        runs[name] = filled(pages(d), b)
    for name, r in {"base": b, **runs}.items():
        t = sum(p["true"] for p in r.values())
        print(f"{name:8} pages {len(r)} false {len(r) - t} P {t / len(r):.4f}")
    for kind, pick in (("gone", lambda r: set(b) - set(r)), ("new", lambda r: set(r) - set(b))):
        moved: dict = {}
        for name, r in runs.items():
            for k in pick(r):
                moved.setdefault(k, set()).add(name)
        tally: Counter = Counter()
        for k in sorted(moved):
            p = b.get(k) or next(runs[n][k] for n in sorted(moved[k]))
            tf = "T" if p["true"] else "F"
            who = ",".join(sorted(moved[k]))
            tally[(tf, who)] += 1
            print(f"{kind:4} {tf} {p['cls']:8} {k[0]:24} {k[1]:16} min {k[2]:6}  {who}")
        for (tf, who), n in sorted(tally.items()):
            print(f"  {kind} {tf}: {n:3}  {who}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
