"""Which of the stack's options moved each page (s33, issue #15): ``python attrib.py BASE STACK
SCENARIO ...`` (``diag13.py`` runs of one seed). For every page of BASE that STACK does not
open at the same minute (``overlap.py``'s pages), STACK at BASE's opening window: ``growth``:
the risk still at or over the alarm point but no page (``page_growth`` held the opening);
``ctx``: the risk under it and the alarm's ``context`` evidence lower (``context_lasting``);
``eta``: under it and a forecast's ``breach`` evidence lower (``morning_eta``); ``floor``: BASE's
risk was ``cascade_page``'s floor and STACK's is not (a parent's page moved); ``other``.
Pooled by true / false and cause. Without single-option runs on a seed this is the
attribution by mechanism, not by counterfactual."""
import os
import pickle
import sys
from collections import Counter

from overlap import THR, scenario_pages


def cause(rb: tuple, rs: tuple, alarm_s: bool | None) -> str:
    if rs[2] >= THR:
        return "growth" if not alarm_s else "other"
    if abs(rb[2] - THR) < 1e-12:
        return "floor"
    eb, es = rb[4], rs[4]
    out = [n for k, n in (("context", "ctx"), ("breach", "eta"), ("growth", "eta"))
           if es.get(k, 0.0) < eb.get(k, 0.0) - 1e-9]
    return "+".join(dict.fromkeys(out)) or "other"


def main(base: str, stack: str, names: list[str]) -> None:
    tally: Counter = Counter()
    for name in names:
        db = pickle.load(open(os.path.join(base, name + ".pkl"), "rb"))
        ds = pickle.load(open(os.path.join(stack, name + ".pkl"), "rb"))
        pb, ps = scenario_pages(name, db), scenario_pages(name, ds)
        t0 = min(r[1] for r in db["rows"])
        at = {(r[0], r[1]): (r, a) for r, a in zip(ds["rows"], ds["alarm"], strict=True)}
        first = {}
        for r in db["rows"]:
            first.setdefault((r[0], round((r[1] - t0) / 60000)), r)
        for k in sorted(set(pb) - set(ps)):
            rb = first[(k[1], k[2])]
            rs, alarm_s = at[(rb[0], rb[1])]
            why = cause(rb, rs, alarm_s)
            later = [m for (n, c, m) in ps if n == name and c == k[1] and 0 < m - k[2] <= 60]
            tf = "T" if pb[k]["true"] else "F"
            tally[(tf, why)] += 1
            print(f"{tf} {pb[k]['cls']:8} {name:20} {k[1]:16} min {k[2]:6} {why:8} "
                  f"risk {rb[2]:.3f} -> {rs[2]:.3f}  reopens {later[:1] or '-'}")
    for (tf, why), n in sorted(tally.items()):
        print(f"  {tf} {why:8} {n:3}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
