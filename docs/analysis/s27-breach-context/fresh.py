"""What-if of `context_fresh` on the emitted alarm (s27, issue #15): ``python fresh.py DIR SEED``
(a dir of ``docs/analysis/s13-breach/diag13.py``; the scenario rebuilt at SEED for its
dependencies).

A parent's standing is the larger of its risk and its worst status (WARN 0.5, FAIL 1). The
status says "the parent is in trouble now"; a cascade it carries reaches the child within the
child's horizon, or not by that status. ``context_fresh``: a parent's status counts only while
it is younger than the horizon (the rule reached it within the horizon); its risk always.
Here, per child window: the new context is ``min(old, max over parents(parent's emitted risk,
fresh status / 2))`` (the parent's status and its age from its rows: a metric's level band 2
or 3 in the network states; the act risk approximated by the emitted one), the child's logit
moved by the context term's weight times the change, the hold re-applied. Alarm only: the
children's children read the parents' risk as run. Prints the figures as run and with it, and
the episodes that change."""
import collections
import glob
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
sys.path.insert(0, os.path.dirname(__file__))
from confirm import logit, score, DECAY  # noqa: E402
from episodes import THR, H, load  # noqa: E402
from when import SEASONAL  # noqa: E402

from streams.sim.simulator import scenario  # noqa: E402


def status_rows(rs: list) -> dict:
    """Per window ts: (status 0/1/2, ts since that status or worse held)."""
    out, since, last = {}, None, 0
    for r in rs:
        lv = max((s // 3 for k, s in r[5].items() if k != "context"), default=0)
        st = 2 if lv >= 3 else (1 if lv == 2 else 0)
        if st == 0:
            since = None
        elif st > last or since is None:
            since = r[1]
        last = st
        out[r[1]] = (st, since)
    return out


def main(d: str, seed: int) -> None:
    tot: dict = collections.defaultdict(collections.Counter)
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        deps = {x.id: list(x.depends_on) for x in scenario(name, seed=seed).components}
        dd, by, br = load(p)
        prisk = {comp: {r[1]: r[2] for r in rs} for comp, rs in by.items()}
        pstat = {comp: status_rows(rs) for comp, rs in by.items()}
        c = tot["seasonal" if name in SEASONAL else "other"]
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs])
            risk = np.array([r[2] for r in rs])
            new = risk.copy()
            raw_shift = np.zeros(risk.size)
            for i, r in enumerate(rs):
                old = r[4].get("context", 0.0)
                if old <= 0 or not deps.get(comp):
                    continue
                w = r[6].get("context", 0.0) / old
                cand = [0.0]
                for par in deps[comp]:
                    cand.append(prisk.get(par, {}).get(r[1], 0.0))
                    st, since = pstat.get(par, {}).get(r[1], (0, None))
                    if st and since is not None and r[1] - since <= H:
                        cand.append(st / 2)
                nc = min(old, max(cand))
                raw_shift[i] = w * (nc - old)
            for i in range(risk.size):
                held = new[i - 1] * DECAY if i else 0.0
                raw = 1 / (1 + math.exp(-(logit(risk[i]) + raw_shift[i]))) if raw_shift[i] else risk[i]
                # where the run's risk was the hold's, the what-if keeps its own hold
                was_held = i and risk[i] <= risk[i - 1] * DECAY + 1e-12
                new[i] = held if was_held and raw_shift[i] == 0 else max(held, raw if not was_held else min(raw, held))
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            end = dd["spans"][comp][1]
            score(risk >= THR, ts, fol, b, end, c, "run ")
            score(new >= THR, ts, fol, b, end, c, "fresh ")
            c0, c1 = collections.Counter(), collections.Counter()
            score(risk >= THR, ts, fol, b, end, c0, "")
            score(new >= THR, ts, fol, b, end, c1, "")
            if c0 != c1:
                print(f"  {name} {comp}: T {c0['T']}->{c1['T']} F {c0['F']}->{c1['F']} hit {c0['hit']}->{c1['hit']}")
    allc: collections.Counter = sum(tot.values(), collections.Counter())
    for g, c in list(tot.items()) + [("all", allc)]:
        for tag in ("run ", "fresh "):
            ep = c[tag + "T"] + c[tag + "F"]
            print(f"{g:8} {tag:6} episodes {ep} true {c[tag + 'T']} false {c[tag + 'F']} "
                  f"precision {c[tag + 'T'] / max(1, ep):.3f} recall@5m {c[tag + 'hit'] / max(1, c[tag + 'br']):.3f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
