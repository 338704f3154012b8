"""Cross-validated evaluation: how a detector does on data its parameters never saw.

* **NAB, leave one category out.** For each of the corpus's categories (the first folder of a
  file's name), every configuration of a grid is scored on the *other* categories, the best
  one (and its corpus threshold) is kept, and the held-out category is scored with both.
  Reported per fold: the chosen configuration, its training score, the held-out score
  (normalised over the held-out category's windows; NaN for a category without windows, where
  only its raw penalty is given). Then the mean and spread of the held-out scores, and the
  *pooled* cross-validated score: every file scored by the fold that held it out, summed and
  normalised over the whole corpus, so it reads on the same scale as the all-in score (the
  best configuration and threshold chosen on everything).
* **SMD, tune on one machine, score the other.** A grid of configurations and a threshold are
  chosen on one machine's test labels and applied unchanged to the other.

Every number here is a pure function of the detector's scores; the grids and their CV scores
are what ``docs/modelling.md`` lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from streams.lab.grids import GRIDS, JOINT_GRID, expand, per_series
from streams.lab.scoring.nab import (
    PROFILES,
    Profile,
    _best_threshold,
    _file_score,
    _prepare,
    _Prepared,
    normalise,
)

FloatArray = npt.NDArray[np.float64]
Config = Mapping[str, Any]
__all__ = ["GRIDS", "JOINT_GRID", "CVResult", "Fold", "NabCorpus", "category", "expand", "loco",
           "nab_cv", "nab_scores_of", "smd_cv"]


def category(name: str) -> str:
    """``"realTraffic/speed_6005.csv"`` -> ``"realTraffic"``."""
    return name.split("/", 1)[0]


@dataclass(frozen=True)
class Fold:
    """One held-out category under one profile."""

    held_out: str
    config: Config
    train_score: float
    threshold: float
    score: float  # normalised over the held-out windows; NaN without windows
    raw: float
    windows: int
    tp: int
    fp: int
    fn: int


@dataclass(frozen=True)
class CVResult:
    """Leave-one-category-out result of one detector's grid under one profile."""

    profile: str
    grid_size: int
    all_in_config: Config
    all_in: float
    all_in_threshold: float
    folds: list[Fold]
    pooled: float  # every file scored by its own fold, normalised over the corpus
    grid_all_in: list[tuple[Config, float]] = field(repr=False)

    @property
    def fold_scores(self) -> list[float]:
        return [f.score for f in self.folds if math.isfinite(f.score)]

    @property
    def mean(self) -> float:
        s = self.fold_scores
        return float(np.mean(s)) if s else math.nan

    @property
    def spread(self) -> float:
        """Population standard deviation of the held-out scores."""
        s = self.fold_scores
        return float(np.std(s)) if s else math.nan

    def as_dict(self) -> dict[str, Any]:
        grid = np.array([s for _, s in self.grid_all_in])
        return {
            "profile": self.profile, "grid_size": self.grid_size,
            "all_in": self.all_in, "all_in_threshold": self.all_in_threshold,
            "all_in_config": dict(self.all_in_config),
            "cv_mean": self.mean, "cv_spread": self.spread, "cv_pooled": self.pooled,
            "grid_all_in": {"min": float(grid.min()), "median": float(np.median(grid)),
                            "max": float(grid.max())},
            "folds": [{"held_out": f.held_out, "config": dict(f.config),
                       "train_score": f.train_score, "threshold": f.threshold,
                       "score": f.score, "raw": f.raw, "windows": f.windows, "tp": f.tp,
                       "fp": f.fp, "fn": f.fn} for f in self.folds],
        }


class NabCorpus:
    """The corpus reduced to what scoring needs, prepared once per profile."""

    def __init__(
        self,
        ts_ms: Mapping[str, npt.ArrayLike],
        windows: Mapping[str, Sequence[tuple[int, int]]],
        profiles: Mapping[str, Profile] = PROFILES,
    ) -> None:
        self.names = [n for n in ts_ms if n in windows]
        self.profiles = dict(profiles)
        self.categories = sorted({category(n) for n in self.names})
        self._prep: dict[str, dict[str, _Prepared]] = {
            p: {n: _prepare(n, ts_ms[n], np.zeros(np.asarray(ts_ms[n]).size),
                            windows[n], prof) for n in self.names}
            for p, prof in self.profiles.items()
        }

    def windows_of(self, names: Sequence[str]) -> int:
        first = next(iter(self._prep.values()))
        return sum(len(first[n].windows) for n in names)

    def evaluate(self, scores: Mapping[str, FloatArray], profile: str,
                 names: Sequence[str], threshold: float | None = None
                 ) -> tuple[float, float, int, int, int]:
        """``(threshold, raw, tp, fp, fn)`` of ``names``; the best threshold when none given."""
        prof = self.profiles[profile]
        preps = [replace(self._prep[profile][n], scores=np.asarray(scores[n], dtype=np.float64))
                 for n in names]
        t = _best_threshold(preps, prof) if threshold is None else threshold
        per = [_file_score(p, t, prof) for p in preps]
        return (t, sum(f.raw for f in per), sum(f.tp for f in per), sum(f.fp for f in per),
                sum(f.fn for f in per))


def loco(
    corpus: NabCorpus,
    configs: Sequence[Config],
    scores_of: Callable[[Config], Mapping[str, FloatArray]],
    profiles: Sequence[str] | None = None,
    select_on: str | None = None,
) -> dict[str, CVResult]:
    """Leave-one-category-out over ``configs`` (scores from ``scores_of(config)``), per
    profile. The first configuration wins ties (list the default first).

    ``select_on=None`` chooses the configuration per profile; ``select_on="standard"`` chooses
    it once, on that profile's training score, and only the threshold per profile, as NAB
    does (a detector has one set of parameters; its threshold is optimised per profile)."""
    profs = list(profiles or corpus.profiles)
    cats = corpus.categories
    by_cat = {c: [n for n in corpus.names if category(n) == c] for c in cats}
    train_of = {c: [n for n in corpus.names if category(n) != c] for c in cats}
    # table[profile][fold] = list over configs of (train_norm, threshold, held-out figures)
    if select_on is not None and select_on not in profs:
        profs.append(select_on)
    table: dict[str, dict[str, list[tuple[float, float, tuple[Any, ...]]]]] = {
        p: {c: [] for c in [*cats, ""]} for p in profs}
    for cfg in configs:
        scores = scores_of(cfg)
        for p in profs:
            prof = corpus.profiles[p]
            t, raw, *_ = corpus.evaluate(scores, p, corpus.names)
            table[p][""].append((normalise(raw, corpus.windows_of(corpus.names), prof), t, ()))
            for c in cats:
                t, raw, *_ = corpus.evaluate(scores, p, train_of[c])
                train = normalise(raw, corpus.windows_of(train_of[c]), prof)
                held = corpus.evaluate(scores, p, by_cat[c], t)
                table[p][c].append((train, t, held))
    def pick(p: str, c: str) -> int:
        return int(np.argmax([s for s, _, _ in table[select_on or p][c]]))

    out: dict[str, CVResult] = {}
    for p in profs:
        prof = corpus.profiles[p]
        everything = table[p][""]
        best = pick(p, "")
        folds = []
        for c in cats:
            rows = table[p][c]
            k = pick(p, c)
            train, t, (_, raw, tp, fp, fn) = rows[k]
            w = corpus.windows_of(by_cat[c])
            folds.append(Fold(c, configs[k], train, t, normalise(raw, w, prof) if w else math.nan,
                              raw, w, tp, fp, fn))
        pooled = normalise(sum(f.raw for f in folds), corpus.windows_of(corpus.names), prof)
        out[p] = CVResult(p, len(configs), configs[best], everything[best][0],
                          everything[best][1], folds, pooled,
                          [(cfg, s) for cfg, (s, _, _) in zip(configs, everything, strict=True)])
    return out


_RAW_KEYS = ("warm", "bins", "order", "margin", "s_lo", "s_hi", "tail_min", "coarse")
# ContextNovelty's own defaults for the raw keys a grid may leave out
_RAW_DEFAULTS: dict[str, Any] = {"s_lo": 3.0, "s_hi": 6.0, "tail_min": 100, "coarse": 0}


def nab_scores_of(values: Mapping[str, FloatArray], detector: str
                  ) -> Callable[[Config], dict[str, FloatArray]]:
    """``scores_of`` for :func:`loco`: the detector's per-row scores of every series under one
    configuration. The raw novelty (which depends only on :data:`_RAW_KEYS`) is computed
    once per distinct raw configuration and reused for the suppression settings."""
    from processors.likelihood import AnomalyLikelihood
    from processors.noveltyconfirm import ConfirmingSuppressor
    from processors.univariate import ContextNovelty, Suppressor
    from streams.lab.scoring.nab import probation_rows, rest_rows

    cache: dict[tuple[Any, ...], dict[str, FloatArray]] = {}

    def raw(cfg: Config) -> dict[str, FloatArray]:
        c = {**_RAW_DEFAULTS, **cfg}
        key = tuple(c[k] for k in _RAW_KEYS)
        if key not in cache:
            cache.clear()  # configurations come grouped by raw key: keep one
            out = {}
            for n, v in values.items():
                m = ContextNovelty(bins=c["bins"], order=c["order"], margin=c["margin"],
                                   warm=per_series(c["warm"], v.size, probation_rows),
                                   s_lo=c["s_lo"], s_hi=c["s_hi"], tail_min=c["tail_min"],
                                   coarse=c["coarse"])
                out[n] = np.array([m.step(float(x)) for x in v])
            cache[key] = out
        return cache[key]

    def scores_of(cfg: Config) -> dict[str, FloatArray]:
        out = {}
        for n, r in raw(cfg).items():
            seq: Any = r
            if detector == "likelihood":
                lik = AnomalyLikelihood(short=cfg["short"], rate=cfg["rate"])
                seq = [lik.step(float(x)) for x in r]
            sup = suppressor(cfg, r.size)
            out[n] = np.array([sup.step(float(x)) for x in seq])
        return out

    def suppressor(cfg: Config, rows: int) -> Suppressor:
        rest = per_series(cfg["rest"], rows, rest_rows)
        if not cfg.get("confirm"):
            return Suppressor(rest, cfg["alarm"], cfg.get("hold", False))
        quiet, record = (0.0, True) if cfg["quiet"] == "record" else (cfg["quiet"], False)
        return ConfirmingSuppressor(rest, cfg["alarm"], per_series(cfg["confirm"], rows, rest_rows),
                                    cfg["order"], quiet, record, cfg.get("floor", 0))

    return scores_of


def nab_cv(data_dir: str, detector: str = "novelty",
           grid: Mapping[str, Sequence[Any]] | None = None,
           select_on: str | None = None) -> dict[str, CVResult]:
    """Leave-one-category-out over the detector's grid on the NAB folder ``data_dir``
    (``select_on``: see :func:`loco`)."""
    from streams.lab.nabdata import load_corpus, load_windows

    series = load_corpus(data_dir)
    corpus = NabCorpus({n: s.ts_ms for n, s in series.items()}, load_windows(data_dir))
    configs = expand(grid if grid is not None else GRIDS[detector])
    return loco(corpus, configs,
                nab_scores_of({n: series[n].values for n in corpus.names}, detector),
                select_on=select_on)


def load_smd(machine_dir: str | Path) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """``(train, test, test labels)`` of one SMD machine folder, as arrays."""
    d = Path(machine_dir)

    def table(name: str) -> FloatArray:
        return np.loadtxt(d / name, delimiter=",", skiprows=1, ndmin=2)

    return table("train.csv")[:, 1:], table("test.csv")[:, 1:], table(
        "test_label.csv")[:, 1].astype(bool)


def joint_scores(train: FloatArray, test: FloatArray, cfg: Config) -> FloatArray:
    """:class:`~processors.multivariate.JointDeviation` over train then test (one stream);
    the test rows' scores."""
    from processors.multivariate import JointDeviation

    det = JointDeviation(alpha=cfg["alpha"], k=cfg["k"], smooth=cfg["smooth"],
                         freeze=cfg.get("freeze", 0.0), calibrate=cfg.get("calibrate", 0))
    for x in train:
        det.step_array(x)
    return np.array([det.step_array(x) for x in test])


def smd_cv(data_dir: str | Path, grid: Mapping[str, Sequence[Any]] = JOINT_GRID
           ) -> dict[str, Any]:
    """Tune the joint model's configuration and threshold on one machine (best point-wise F1,
    no point-adjust), score every other machine with both, unchanged."""
    from streams.lab.scoring.events import best_event_f1, event_prf
    from streams.lab.scoring.pointwise import best_f1, prf

    machines = sorted(p.parent for p in Path(data_dir).glob("*/test_label.csv"))
    if len(machines) < 2:
        raise FileNotFoundError(f"{data_dir}: need two or more <machine>/test_label.csv")
    data = {m.name: load_smd(m) for m in machines}
    configs = expand(grid)
    scores = {(i, m): joint_scores(tr, te, cfg) for i, cfg in enumerate(configs)
              for m, (tr, te, _) in data.items()}
    folds = []
    for a in data:
        fits = [best_f1(data[a][2], scores[(i, a)]) for i in range(len(configs))]
        k = int(np.argmax([f.prf.f1 for f in fits]))
        t = fits[k].threshold
        for b in data:
            if b == a:
                continue
            s, lab = scores[(k, b)], data[b][2]
            pw, ev = prf(lab, s >= t), event_prf(lab, s >= t)
            folds.append({
                "tuned_on": a, "scored": b, "config": configs[k], "threshold": t,
                "train_f1": fits[k].prf.f1, "f1": pw.f1, "precision": pw.precision,
                "recall": pw.recall, "event_f1": ev.f1, "event_precision": ev.precision,
                "event_recall": ev.recall,
                "oracle_f1": best_f1(lab, s).prf.f1,
                "oracle_event_f1": best_event_f1(lab, s).prf.f1,
            })
    default = {m: best_f1(data[m][2], scores[(0, m)]).prf.f1 for m in data}
    return {"grid": {k: list(v) for k, v in grid.items()}, "grid_size": len(configs),
            "folds": folds, "default_config": configs[0], "default_best_f1": default}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m streams.lab.cv nab|smd --data DIR [--detector D] [--out FILE]``."""
    import argparse
    import json

    p = argparse.ArgumentParser(prog="python -m streams.lab.cv", description=__doc__)
    p.add_argument("kind", choices=("nab", "smd"))
    p.add_argument("--data", required=True)
    p.add_argument("--detector", default="novelty", choices=tuple(GRIDS),
                   help="NAB detector whose grid is cross-validated: 'novelty' is the "
                        "pipeline's default (hold), 'novelty-coarse' its anomaly_coarse "
                        "option; '-nohold': the suppressor before s19; 'novelty-confirm': "
                        "s21's confirmed partial onsets, 'novelty-recordgap' the same with "
                        "quiet from the series' longest gap (s23, the default's since s23), "
                        "'novelty-floor' that and a confirmation by more than one new "
                        "context (s24) (lab only)")
    p.add_argument("--default-only", action="store_true",
                   help="only the default configuration (the first of each grid value): the "
                        "threshold is then the one thing chosen on labels")
    p.add_argument("--select-on", choices=tuple(PROFILES),
                   help="NAB: choose the configuration once, on this profile, and only the "
                        "threshold per profile (as NAB does); default: per profile")
    p.add_argument("--out", help="write the full result as JSON here")
    a = p.parse_args(argv)
    if a.kind == "nab":
        grid = {k: v[:1] for k, v in GRIDS[a.detector].items()} if a.default_only \
            else GRIDS[a.detector]
        res = nab_cv(a.data, a.detector, grid, a.select_on)
        result: Any = {"detector": a.detector, "select_on": a.select_on,
                       "grid": {k: list(v) for k, v in grid.items()},
                       "profiles": {k: r.as_dict() for k, r in res.items()}}
        for prof, r in res.items():
            print(f"{prof}: all-in {r.all_in:.1f} (grid {r.grid_size}: all-in min "
                  f"{min(s for _, s in r.grid_all_in):.1f} max "
                  f"{max(s for _, s in r.grid_all_in):.1f}); leave-one-category-out mean "
                  f"{r.mean:.1f} ± {r.spread:.1f}, pooled {r.pooled:.1f}")
            for f in r.folds:
                print(f"  held out {f.held_out:22s} {f.score:6.1f} (train {f.train_score:.1f}, "
                      f"thr {f.threshold:.3f}, TP/FP/FN {f.tp}/{f.fp}/{f.fn}) {dict(f.config)}")
    else:
        result = smd_cv(a.data, {k: v[:1] for k, v in JOINT_GRID.items()} if a.default_only
                        else JOINT_GRID)
        for f in result["folds"]:
            print(f"tuned on {f['tuned_on']} -> {f['scored']}: F1 {f['f1']:.3f} (P "
                  f"{f['precision']:.2f} R {f['recall']:.2f}), event F1 {f['event_f1']:.3f}; "
                  f"train F1 {f['train_f1']:.3f}; oracle F1 {f['oracle_f1']:.3f}; "
                  f"{f['config']} thr {f['threshold']:.3f}")
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(result, indent=1, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
