"""Event-wise precision, recall and F1 for labelled anomaly segments.

Point-wise F1 (:mod:`streams.lab.scoring.pointwise`) weighs a long segment by its length;
point-adjust inflates every detector, a random one included. Event-wise scoring counts what an
operator sees:

* each labelled segment once: detected if any prediction falls inside it (recall = detected
  segments / segments);
* each false alarm once per *episode*: a maximal run of consecutive predictions that touches
  no labelled segment;
* precision = detected segments / (detected segments + false episodes); F1 their harmonic mean.

:func:`best_event_f1` sweeps thresholds: every segment's maximum score (where recall changes)
and up to ``quantiles`` quantiles of the scores (where the episodes change), so it is exact in
recall and close in false episodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streams.lab.scoring.pointwise import segments


@dataclass(frozen=True)
class EventPRF:
    detected: int
    segments: int
    false_episodes: int

    @property
    def recall(self) -> float:
        return self.detected / self.segments if self.segments else math.nan

    @property
    def precision(self) -> float:
        d = self.detected + self.false_episodes
        return self.detected / d if d else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0


@dataclass(frozen=True)
class BestEventF1:
    threshold: float
    prf: EventPRF


def event_prf(labels: npt.ArrayLike, predictions: npt.ArrayLike) -> EventPRF:
    """Event-wise figures of boolean ``predictions`` against boolean ``labels``."""
    lab = np.asarray(labels, dtype=bool)
    pred = np.asarray(predictions, dtype=bool)
    if lab.shape != pred.shape or lab.ndim != 1:
        raise ValueError(f"labels {lab.shape} and predictions {pred.shape} must be equal, 1-d")
    segs = segments(lab)
    detected = sum(1 for a, b in segs if pred[a:b].any())
    false = sum(1 for a, b in segments(pred) if not lab[a:b].any())
    return EventPRF(detected, len(segs), false)


def best_event_f1(labels: npt.ArrayLike, scores: npt.ArrayLike, quantiles: int = 256
                  ) -> BestEventF1:
    """The best event-wise F1 over thresholds ``score >= t`` (see the module doc)."""
    lab = np.asarray(labels, dtype=bool)
    sc = np.asarray(scores, dtype=np.float64)
    if sc.shape != lab.shape:
        raise ValueError(f"labels {lab.shape} and scores {sc.shape} differ in shape")
    if bool(np.any(np.isnan(sc))):
        raise ValueError("scores contain NaN")
    cands = [sc[a:b].max() for a, b in segments(lab)]
    if sc.size:
        cands.extend(np.quantile(sc, np.linspace(0.0, 1.0, quantiles)).tolist())
    best = BestEventF1(math.inf, event_prf(lab, np.zeros(lab.shape, dtype=bool)))
    for t in sorted(set(cands), reverse=True):
        r = event_prf(lab, sc >= t)
        if r.f1 > best.prf.f1:
            best = BestEventF1(float(t), r)
    return best
