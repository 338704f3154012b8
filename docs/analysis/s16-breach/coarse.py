"""Issue #15, s16 (hE), NAB round six: a second, coarser context resolution, scored on the
leave-one-category-out protocol under NAB's rules (one configuration chosen on the standard
profile, a threshold per profile; streams.lab.cv.loco with select_on="standard").

    .venv/bin/python docs/analysis/s16-breach/coarse.py ../shared/data/nab WHICH [out.jsonl]

WHICH:
  modes     the first exploration (threshold only, other parameters at their defaults):
            coarse 2 and 4 combined three ways (mode all = the fraction of new contexts over
            both resolutions, what was kept; min = the smaller of the two fractions; gate = the
            fine fraction, halved when no coarse context is new), then coarse 3 and 8 (all)
  around    coarse 4, one default parameter moved at a time (threshold only)
  grid96    coarse 4 (mode all) with the grid of 96 (NOVELTY_GRID), ~5 min
  rest      a rest period in event time (half a day, one day: rows from the file's median step)
            instead of NAB's probation / 5, coarse off and 4 (threshold only)

`mode all` is what ContextNovelty(coarse=...) computes; this script's Multi class is the
experiment's own code (the coarse contexts hashed apart by an XOR rather than a seed, so its
figures differ from the shipped code's by a few tenths); the shipped figures come from
`python -m streams.lab.cv nab --detector novelty-coarse` (docs/modelling.md, "NAB round six").
"""
from __future__ import annotations

import json
import math
import sys
import time
from typing import Any

import numpy as np

from processors.seenset import mark
from processors.univariate import ContextNovelty, Suppressor, _context_slots
from streams.lab.cv import NabCorpus, loco
from streams.lab.grids import NOVELTY_GRID, expand, per_series
from streams.lab.nabdata import load_corpus, load_windows
from streams.lab.scoring.nab import probation_rows, rest_rows


class Multi(ContextNovelty):
    """Fine contexts plus coarse ones (levels // coarse), combined by ``mode``."""

    __slots__ = ("xcoarse", "mode", "clevels")

    def __init__(self, xcoarse: int = 0, mode: str = "all", **kw: Any) -> None:
        super().__init__(**kw)
        self.xcoarse, self.mode, self.clevels = xcoarse, mode, ()

    def step(self, x: float) -> float:
        if not self.xcoarse or not math.isfinite(x):
            return super().step(x)
        cold = self.n < self.warm
        if cold:
            self.lo, self.hi = min(self.lo, x), max(self.hi, x)
        q = self._level(x, self.lo, self.hi)
        cq = q // self.xcoarse + 100000
        cslots = tuple(s ^ 0x1555 for s in _context_slots(self.clevels, cq, self.order, self.bits))
        fine_new, coarse_new = self._novelty(self._slots(q)), self._novelty(cslots)
        raw = super().step(x)  # learns the fine contexts and the season: max(fine, seasonal)
        if not cold:
            seasonal = raw if raw > fine_new else 0.0
            nov = {"all": (fine_new + coarse_new) / 2, "min": min(fine_new, coarse_new),
                   "gate": fine_new if coarse_new > 0 else 0.5 * fine_new}[self.mode]
            raw = max(nov, seasonal)
        mark(self.seen, cslots, self.bits)  # the set may be compact (processors/seenset.py)
        self.clevels = (self.clevels + (cq,))[-self.order:]
        return raw


def main(data: str, which: str, out: str | None) -> None:
    series = load_corpus(data)
    corpus = NabCorpus({n: s.ts_ms for n, s in series.items()}, load_windows(data))
    values = {n: series[n].values for n in corpus.names}
    keys = ("warm", "order", "margin", "s_lo", "s_hi", "coarse", "mode")
    cache: dict[Any, dict[str, np.ndarray]] = {}

    def raw(c: dict[str, Any]) -> dict[str, np.ndarray]:
        key = tuple(c[k] for k in keys)
        if key not in cache:
            cache.clear()
            cache[key] = {n: np.array([m.step(float(x)) for x in v]) for n, v in values.items()
                          for m in [Multi(c["coarse"], c["mode"], bins=8, order=c["order"],
                                          margin=c["margin"], s_lo=c["s_lo"], s_hi=c["s_hi"],
                                          warm=per_series(c["warm"], v.size, probation_rows))]}
        return cache[key]

    step_ms = {n: float(np.median(np.diff(series[n].ts_ms))) for n in corpus.names}

    def scores_of(c: dict[str, Any]) -> dict[str, np.ndarray]:
        out = {}
        for n, r in raw(c).items():
            days = c.get("rest_days")
            rest = rest_rows(r.size) if days is None else max(1, round(days * 864e5 / step_ms[n]))
            sup = Suppressor(rest, 0.75)
            out[n] = np.array([sup.step(float(x)) for x in r])
        return out

    base = {"warm": (250,), "order": (3,), "margin": (0.25,), "s_lo": (3.0,), "s_hi": (6.0,),
            "coarse": (4,), "mode": ("all",)}
    runs: list[tuple[str, dict[str, tuple[Any, ...]]]] = [("default (coarse off)",
                                                          {**base, "coarse": (0,)})]
    if which == "modes":
        runs += [(f"coarse {c} {m}", {**base, "coarse": (c,), "mode": (m,)})
                 for c in (2, 4) for m in ("all", "min", "gate")]
        runs += [(f"coarse {c} all", {**base, "coarse": (c,)}) for c in (3, 8)]
    elif which == "around":
        runs += [(f"coarse 4, {k} {v}", {**base, k: (v,)}) for k, v in [
            ("s_hi", 5.0), ("margin", 0.2), ("warm", "probation"), ("order", 2), ("order", 4),
            ("margin", 0.5), ("s_lo", 2.0)]]
    elif which == "rest":
        runs = [(f"coarse {c}, rest {d} day", {**base, "coarse": (c,), "rest_days": (d,)})
                for c in (0, 4) for d in (0.5, 1.0)]
    elif which == "grid96":
        g = {k: v for k, v in NOVELTY_GRID.items() if k in keys}
        runs = [("grid of 96, coarse 4", {**g, "coarse": (4,), "mode": ("all",)})]
    for label, grid in runs:
        t0 = time.time()
        res = loco(corpus, expand(grid), scores_of, select_on="standard")
        print(f"== {label} [{len(expand(grid))} configurations, {time.time() - t0:.0f} s]")
        row: dict[str, Any] = {"label": label}
        for p, r in res.items():
            rk = next(f for f in r.folds if f.held_out == "realKnownCause")
            print(f"{p[:20]:20s} all-in {r.all_in:5.1f}  held out {r.mean:5.1f} ± {r.spread:4.1f}"
                  f"  pooled {r.pooled:5.1f}   realKnownCause {rk.score:5.1f} "
                  f"(TP/FP/FN {rk.tp}/{rk.fp}/{rk.fn})")
            row[p] = {"all_in": r.all_in, "mean": r.mean, "spread": r.spread,
                      "pooled": r.pooled, "folds": {f.held_out: [f.score, f.threshold,
                                                                 dict(f.config)]
                                                    for f in r.folds}}
        for f in res["standard"].folds:
            print(f"   {f.held_out:22s} {f.score:5.1f} thr {f.threshold:.3f} "
                  f"{f.tp}/{f.fp}/{f.fn} {dict(f.config)}")
        if out:
            with open(out, "a") as fh:
                fh.write(json.dumps(row, default=str) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
