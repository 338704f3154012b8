"""Event-wise F1: segments counted once, false alarms once per episode."""

from __future__ import annotations

import numpy as np
import pytest

from streams.lab.scoring.events import best_event_f1, event_prf


def test_segments_once_and_false_alarms_per_episode() -> None:
    lab = np.zeros(30, dtype=bool)
    lab[5:10] = True
    lab[20:25] = True
    pred = np.zeros(30, dtype=bool)
    pred[6:9] = True  # one segment found (three points: still one)
    pred[12:15] = True  # one false episode of three points
    pred[16] = True  # a second false episode
    r = event_prf(lab, pred)
    assert (r.detected, r.segments, r.false_episodes) == (1, 2, 2)
    assert r.recall == pytest.approx(0.5)
    assert r.precision == pytest.approx(1 / 3)
    assert r.f1 == pytest.approx(2 * 0.5 / 3 / (0.5 + 1 / 3))


def test_an_episode_that_overlaps_a_segment_is_not_false() -> None:
    lab = np.array([0, 0, 1, 1, 0, 0], dtype=bool)
    pred = np.array([0, 1, 1, 1, 1, 0], dtype=bool)
    r = event_prf(lab, pred)
    assert (r.detected, r.false_episodes, r.f1) == (1, 0, 1.0)


def test_best_threshold_finds_the_perfect_detector_and_nothing_scores_zero() -> None:
    lab = np.zeros(100, dtype=bool)
    lab[40:50] = True
    sc = np.where(lab, 0.9, 0.1)
    best = best_event_f1(lab, sc)
    assert best.prf.f1 == 1.0 and 0.1 < best.threshold <= 0.9
    flat = best_event_f1(lab, np.zeros(100))  # flags all or nothing: one episode, found
    assert flat.prf.f1 == 1.0  # the whole series as one episode overlaps the segment
    assert best_event_f1(np.zeros(5, dtype=bool), np.arange(5.0)).prf.f1 == 0.0
    with pytest.raises(ValueError):
        event_prf(lab, np.zeros(3, dtype=bool))
