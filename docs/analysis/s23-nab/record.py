"""Round eleven's second lever, threshold only (the default's parameters; the corpus threshold
held out), on all 31 files (``docs/modelling.md``, "NAB round eleven"): the seasonal surprise
counts only for a *record* residual, larger than every seasonal residual seen under the current
season (reset with the tail buffer when the season changes): :class:`RecordNovelty` here, the
default's :class:`~processors.univariate.ContextNovelty` otherwise. Prints the default and the
variant (standard / low FP / low FN, all-in / held-out mean / pooled; at 0.525 the windows
found, their mean sweep value and the false-alarm rows), and the rows where they differ at
0.525. ``PYTHONPATH=. python docs/analysis/s23-nab/record.py`` (~2 min with
``NAB_RAW_CACHE``)."""
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, cv, line, load, suppress  # noqa: E402

from processors.univariate import ContextNovelty  # noqa: E402
from streams.lab.scoring.nab import rest_rows  # noqa: E402

at = load("s23_explore", "s23-nab/explore.py").at


class RecordNovelty(ContextNovelty):
    """:class:`ContextNovelty` whose seasonal surprise counts only above ``peak``, the largest
    seasonal residual seen under the current season."""

    def __init__(self, life: float = 0.0, rest: int = 150, **params: Any) -> None:
        super().__init__(**params)
        self.peak: float | None = None
        # life > 0: the peak decays by exp(-1 / (life rest)) per row (lever 2b)
        self.decay = float(np.exp(-1.0 / (life * rest))) if life > 0 else 1.0

    def _seasonal_score(self, season: float | None) -> float:
        s = super()._seasonal_score(season)
        if s > 0.0 and season is not None and self.peak is not None and season <= self.peak:
            return 0.0
        return s

    def step(self, x: float) -> float:
        season = self._residuals(x)[1] if np.isfinite(x) else None
        changes = self._changes
        raw = super().step(x)
        if self._changes != changes:
            self.peak = None
        elif self.peak is not None:
            self.peak *= self.decay
        if season is not None and self._changes == changes:
            self.peak = season if self.peak is None else max(self.peak, season)
        return raw


def record_raw(values: dict[str, Any], life: float = 0.0) -> dict[str, np.ndarray]:
    out = {}
    for n, v in values.items():
        m = RecordNovelty(life, rest_rows(v.size), bins=8, order=3, margin=0.25, warm=250,
                          tail_min=100)
        out[n] = np.array([m.step(float(x)) for x in v])
    return out


def main() -> None:
    c, values = corpus()
    raw = cached_raw("default", values)
    sc = {n: suppress(r) for n, r in raw.items()}
    print(line("default (hold)", cv(c, [{}], lambda _: sc)), flush=True)
    print(at(c, sc), flush=True)
    for life in [float(a) for a in sys.argv[1:]] or [0.0]:
        rec = record_raw(values, life)
        sr = {n: suppress(r) for n, r in rec.items()}
        print(line(f"record, life {life:g}", cv(c, [{}], lambda _, s=sr: s)), flush=True)
        print(at(c, sr), flush=True)
        diff(c, values, sc, sr)


def diff(c: Any, values: dict[str, Any], sc: dict[str, np.ndarray],
         sr: dict[str, np.ndarray]) -> None:
    for n in values:
        prep = c._prep["standard"][n]
        a, b = sc[n] >= 0.525, sr[n] >= 0.525
        a[: prep.probation] = b[: prep.probation] = False
        inside = np.zeros(a.size, dtype=bool)
        for lo, hi in prep.windows:
            inside[lo : hi + 1] = True
        for t in np.flatnonzero(a != b):
            print(f"  {n.split('/')[-1]:42s} row {t:6d} {'window' if inside[t] else 'outside'} "
                  f"default {sc[n][t]:.3f} record {sr[n][t]:.3f}")


if __name__ == "__main__":
    main()
