"""A diagnostic for the misses (``docs/modelling.md``, "NAB round ten (s21)", "The misses"):
the novelty's levels cut over the warm values' 1st-99th percentiles instead of their minimum
and maximum (values beyond get levels of their own, as now), so one spike in the warm values
does not squeeze the normal range into two levels. Causal as a live form would be: the warm
values are kept, and at the end of warm the contexts are marked again on the new levels; here
the range is set from the first ``warm`` values before the run (the same contexts, since cold
rows score 0). Threshold only, NAB's protocol; the default beside it.
``PYTHONPATH=. python docs/analysis/s21-nab/robust.py`` (~3 min)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, cv, line, print_folds, suppress  # noqa: E402

from processors.univariate import ContextNovelty  # noqa: E402

WARM = 250


class RobustRange(ContextNovelty):
    """:class:`ContextNovelty` whose cold range is fixed to ``(lo, hi)``."""

    __slots__ = ("fixed",)

    def __init__(self, lo: float, hi: float, **params: object) -> None:
        super().__init__(**params)
        self.fixed = (lo, hi)

    def _level(self, x: float, lo: float, hi: float) -> int:
        if self.n < self.p.warm:
            lo, hi = self.fixed
        return super()._level(x, lo, hi)

    def step(self, x: float) -> float:
        out = super().step(x)
        if self.n <= self.p.warm:
            self.lo, self.hi = self.fixed
        return out


def raw_robust(values: dict) -> dict:  # type: ignore[type-arg]
    out = {}
    for n, v in values.items():
        x = np.asarray(v, dtype=float)
        lo, hi = np.percentile(x[:WARM], [1, 99])
        m = RobustRange(float(lo), float(hi), bins=8, order=3, margin=0.25, warm=WARM,
                        tail_min=100)
        out[n] = np.array([m.step(float(y)) for y in x])
    return out


def counts(c, sc, thr: float = 0.525) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Windows found and false-alarm rows at ``thr`` (after probation), all files."""
    found = fp = 0
    for n in c.names:
        prep = c._prep["standard"][n]
        det = sc[n] >= thr
        det[: prep.probation] = False
        inside = np.zeros(det.size, dtype=bool)
        for a, b in prep.windows:
            inside[a : b + 1] = True
            found += bool(det[a : b + 1].any())
        fp += int((det & ~inside).sum())
    return found, fp


def scored(c, label: str, raw: dict) -> dict:
    """Each file's suppressed score from ``raw``; prints its held-out line, the windows and
    false-alarm rows at 0.525, and the folds."""
    sc = {n: suppress(r) for n, r in raw.items()}
    res = cv(c, [{}], lambda _, sc=sc: sc)  # type: ignore[misc]
    found, fp = counts(c, sc)
    print(line(label, res), f"| at 0.525: windows {found}, false-alarm rows {fp}")
    print_folds(res, ())
    return sc


def main() -> None:
    c, values = corpus()
    for label, raw in (("default", cached_raw("default", values)),
                       ("warm range 1-99 %", raw_robust(values))):
        sc = scored(c, label, raw)
        for n in ("realAdExchange/exchange-4_cpm_results.csv",
                  "realKnownCause/rogue_agent_key_hold.csv",
                  "realKnownCause/rogue_agent_key_updown.csv",
                  "realAdExchange/exchange-4_cpc_results.csv"):
            prep = c._prep["standard"][n]
            peaks = [f"{sc[n][a:b + 1].max():.3f}" for a, b in prep.windows]
            print(f"  {n.split('/')[-1]}: window peaks {peaks}")


if __name__ == "__main__":
    main()
