"""Point-wise precision, recall and F1, with and without point-adjust.

Labels and predictions are 0/1 arrays of equal length (one entry per time step). Point-adjust
(Xu et al. 2018, used by OmniAnomaly, USAD, TranAD...) marks a whole labelled segment as
detected when any of its points is; it inflates scores, so that a random detector can look
good under it: report both.

Conventions: precision is 0 when nothing is predicted, recall is 0 when nothing is labelled,
F1 is 0 when precision + recall is 0 (scikit-learn's ``zero_division=0``). A point is predicted
at threshold ``t`` when ``score >= t``; the best-F1 search tries every distinct score (and
"predict nothing", ``t = inf``), keeping the highest threshold among equal F1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 with the counts behind them."""

    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int


@dataclass(frozen=True)
class BestF1:
    """The threshold that maximises F1, and the scores there."""

    threshold: float
    prf: PRF


def _as_bool(name: str, a: npt.ArrayLike) -> BoolArray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-d, got shape {arr.shape}")
    return arr.astype(bool)


def _prf(tp: int, fp: int, fn: int) -> PRF:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f1, tp, fp, fn)


def segments(labels: npt.ArrayLike) -> list[tuple[int, int]]:
    """Maximal runs of 1s as ``(start, stop)`` index pairs, ``stop`` exclusive."""
    lab = _as_bool("labels", labels).astype(np.int8)
    edges = np.diff(np.concatenate(([0], lab, [0])))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def point_adjust(labels: npt.ArrayLike, predictions: npt.ArrayLike) -> BoolArray:
    """Predictions with every labelled segment that holds a prediction filled in."""
    lab = _as_bool("labels", labels)
    pred = _as_bool("predictions", predictions).copy()
    if lab.shape != pred.shape:
        raise ValueError(f"labels {lab.shape} and predictions {pred.shape} differ in shape")
    for start, stop in segments(lab):
        if pred[start:stop].any():
            pred[start:stop] = True
    return pred


def prf(labels: npt.ArrayLike, predictions: npt.ArrayLike, *, adjust: bool = False) -> PRF:
    """Point-wise precision/recall/F1, after point-adjust when ``adjust``."""
    lab = _as_bool("labels", labels)
    pred = point_adjust(lab, predictions) if adjust else _as_bool("predictions", predictions)
    if lab.shape != pred.shape:
        raise ValueError(f"labels {lab.shape} and predictions {pred.shape} differ in shape")
    tp = int(np.count_nonzero(lab & pred))
    fp = int(np.count_nonzero(~lab & pred))
    fn = int(np.count_nonzero(lab & ~pred))
    return _prf(tp, fp, fn)


def best_f1(labels: npt.ArrayLike, scores: npt.ArrayLike, *, adjust: bool = False) -> BestF1:
    """The best F1 over thresholds ``score >= t``, exact, in ``O(n log n)``.

    With ``adjust``, a segment's points all count as true positives from the threshold of its
    highest score down, which is what point-adjust does at each threshold.
    """
    lab = _as_bool("labels", labels)
    sc = np.asarray(scores, dtype=np.float64)
    if sc.shape != lab.shape:
        raise ValueError(f"labels {lab.shape} and scores {sc.shape} differ in shape")
    if bool(np.any(np.isnan(sc))):
        raise ValueError("scores contain NaN")
    positives = int(np.count_nonzero(lab))
    # Events: (score at which it switches on, +tp, +fp).
    ev_s = [sc[~lab]]
    ev_tp = [np.zeros(int(np.count_nonzero(~lab)), dtype=np.int64)]
    ev_fp = [np.ones(int(np.count_nonzero(~lab)), dtype=np.int64)]
    if adjust:
        segs = segments(lab)
        ev_s.append(np.array([sc[a:b].max() for a, b in segs], dtype=np.float64))
        ev_tp.append(np.array([b - a for a, b in segs], dtype=np.int64))
        ev_fp.append(np.zeros(len(segs), dtype=np.int64))
    else:
        ev_s.append(sc[lab])
        ev_tp.append(np.ones(positives, dtype=np.int64))
        ev_fp.append(np.zeros(positives, dtype=np.int64))
    s_all = np.concatenate(ev_s)
    order = np.argsort(-s_all, kind="stable")
    s_sorted = s_all[order]
    tp_cum = np.cumsum(np.concatenate(ev_tp)[order])
    fp_cum = np.cumsum(np.concatenate(ev_fp)[order])
    last = np.flatnonzero(np.append(s_sorted[1:] != s_sorted[:-1], True))
    tp = tp_cum[last]
    fp = fp_cum[last]
    denom = 2 * tp + fp + (positives - tp)
    f1 = np.divide(2.0 * tp, denom, out=np.zeros(tp.size), where=denom > 0)
    if f1.size == 0 or not f1.max() > 0.0:
        return BestF1(math.inf, _prf(0, 0, positives))
    k = int(np.argmax(f1))  # first maximum: the highest threshold among ties
    return BestF1(float(s_sorted[last[k]]), _prf(int(tp[k]), int(fp[k]), positives - int(tp[k])))
