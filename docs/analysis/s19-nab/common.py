"""Shared by this folder's scripts: the NAB subset, the novelty's raw scores, leave-one-
category-out under NAB's protocol (``select_on="standard"``). Run from the repository root
with ``PYTHONPATH=.``."""
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from processors.univariate import ContextNovelty
from streams.lab.cv import CVResult, NabCorpus, loco
from streams.lab.grids import per_series
from streams.lab.nabdata import load_corpus, load_windows
from streams.lab.scoring.nab import probation_rows

DATA = "/work/shared/data/nab"
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


def corpus() -> tuple[NabCorpus, dict[str, Any]]:
    """The corpus prepared for scoring, and ``{name: values}`` of its scored files."""
    series, windows = load_corpus(DATA), load_windows(DATA)
    c = NabCorpus({n: s.ts_ms for n, s in series.items()}, windows)
    return c, {n: series[n].values for n in c.names}


def raw_scores(values: Mapping[str, Any], warm: Any = 250, order: int = 3,
               margin: float = 0.25, s_lo: float = 3.0, s_hi: float = 6.0,
               coarse: int = 0) -> dict[str, np.ndarray]:
    """The novelty's raw score of every file (``warm="probation"``: NAB's probation)."""
    out = {}
    for n, v in values.items():
        m = ContextNovelty(bins=8, order=order, margin=margin, s_lo=s_lo, s_hi=s_hi,
                           warm=per_series(warm, v.size, probation_rows), tail_min=100,
                           coarse=coarse)
        out[n] = np.array([m.step(float(x)) for x in v])
    return out


def cv(c: NabCorpus, configs: Sequence[Any], scores_of: Callable[[Any], Any]
       ) -> dict[str, CVResult]:
    return loco(c, configs, scores_of, select_on="standard")


def line(label: str, res: Mapping[str, CVResult]) -> str:
    """``label: std a/m/p  lowFP a/m/p  lowFN a/m/p`` (all-in / held-out mean / pooled)."""
    figs = "  ".join(f"{p.split('_')[-2] if '_' in p else 'std'} {res[p].all_in:.1f}/"
                     f"{res[p].mean:.1f}/{res[p].pooled:.1f}" for p in PROFILES)
    return f"{label:34s} {figs}"


def print_folds(res: Mapping[str, CVResult], keys: Sequence[str]) -> None:
    """Each fold's held-out score, threshold, counts and chosen ``keys`` (standard, low FP)."""
    for p in ("standard", "reward_low_FP_rate"):
        for f in res[p].folds:
            cfg = {k: v for k, v in f.config.items() if k in keys}
            print(f"  {p[:11]:11s} {f.held_out:22s} {f.score:6.1f} thr {f.threshold:.3f} "
                  f"TP/FP/FN {f.tp}/{f.fp}/{f.fn} {cfg}", flush=True)
