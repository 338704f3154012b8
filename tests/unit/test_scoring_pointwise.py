"""Point-wise P/R/F1, point-adjust, and the best-F1 search."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.lab.scoring import pointwise as pw


def test_segments() -> None:
    assert pw.segments([0, 1, 1, 0, 0, 1, 0, 1]) == [(1, 3), (5, 6), (7, 8)]
    assert pw.segments([0, 0]) == []


def test_point_adjust_fills_detected_segments_only() -> None:
    labels = [0, 1, 1, 1, 0, 1, 1, 0]
    preds = [1, 0, 1, 0, 0, 0, 0, 0]
    assert pw.point_adjust(labels, preds).astype(int).tolist() == [1, 1, 1, 1, 0, 0, 0, 0]


def test_prf_by_hand() -> None:
    labels = [0, 1, 1, 1, 0, 1, 1, 0]
    preds = [1, 0, 1, 0, 0, 0, 0, 0]
    # Raw: tp = 1 (index 2), fp = 1 (index 0), fn = 4. P = 1/2, R = 1/5, F1 = 2/7.
    raw = pw.prf(labels, preds)
    assert (raw.tp, raw.fp, raw.fn) == (1, 1, 4)
    assert (raw.precision, raw.recall) == (0.5, 0.2)
    assert raw.f1 == pytest.approx(2 / 7)
    # Adjusted: the first segment (3 points) counts; tp = 3, fp = 1, fn = 2. P = 3/4, R = 3/5.
    adj = pw.prf(labels, preds, adjust=True)
    assert (adj.tp, adj.fp, adj.fn) == (3, 1, 2)
    assert adj.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)


def test_zero_division_conventions() -> None:
    nothing = pw.prf([0, 1], [0, 0])
    assert (nothing.precision, nothing.recall, nothing.f1) == (0.0, 0.0, 0.0)
    no_labels = pw.prf([0, 0], [1, 0])
    assert (no_labels.precision, no_labels.recall, no_labels.f1) == (0.0, 0.0, 0.0)
    best = pw.best_f1([0, 0, 0], [0.1, 0.2, 0.3])
    assert best.threshold == math.inf and best.prf.f1 == 0.0


def test_best_f1_by_hand() -> None:
    labels = [0, 0, 1, 1, 0]
    scores = [0.1, 0.9, 0.8, 0.7, 0.2]
    # t = 0.9: P 0, F1 0; t = 0.8: tp 1 fp 1 fn 1 -> 1/2; t = 0.7: tp 2 fp 1 -> 4/5 (best).
    best = pw.best_f1(labels, scores)
    assert best.threshold == 0.7
    assert best.prf.f1 == pytest.approx(0.8)
    # With point-adjust the segment is whole from t = 0.8: tp 2 fp 1 -> 4/5 at the higher t.
    adj = pw.best_f1(labels, scores, adjust=True)
    assert adj.threshold == 0.8
    assert adj.prf.f1 == pytest.approx(0.8)


@settings(max_examples=80, deadline=None)
@given(
    labels=st.lists(st.booleans(), min_size=1, max_size=40),
    data=st.data(),
    adjust=st.booleans(),
)
def test_best_f1_matches_brute_force(labels: list[bool], data: st.DataObject, adjust: bool) -> None:
    scores = data.draw(
        st.lists(st.integers(0, 6), min_size=len(labels), max_size=len(labels)).map(
            lambda xs: [x / 6 for x in xs]
        )
    )
    best = pw.best_f1(labels, scores, adjust=adjust)
    candidates = sorted(set(scores) | {math.inf}, reverse=True)
    f1s = [pw.prf(labels, np.asarray(scores) >= t, adjust=adjust).f1 for t in candidates]
    assert best.prf.f1 == pytest.approx(max(f1s))
    assert best.threshold == candidates[int(np.argmax(np.asarray(f1s) >= max(f1s) - 1e-12))]


def test_random_detector_looks_better_with_point_adjust() -> None:
    # The known inflation: 10 long anomalous segments in 10,000 points, scores pure noise.
    labels = np.zeros(10_000, dtype=bool)
    for start in range(500, 10_000, 1_000):
        labels[start : start + 100] = True
    scores = np.random.default_rng(0).random(labels.size)
    raw = pw.best_f1(labels, scores)
    adjusted = pw.best_f1(labels, scores, adjust=True)
    # Without adjustment, noise cannot beat flagging everything: F1 = 2 * 0.1 / 1.1 ~ 0.18.
    assert raw.prf.f1 < 0.2
    # With it, one lucky point per segment buys the whole segment.
    assert adjusted.prf.f1 > 0.6
    assert adjusted.prf.f1 > 3 * raw.prf.f1
