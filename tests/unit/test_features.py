"""Event-time windows: feature maths, lateness, duplicates, state as a value."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.features import (
    ACCEPTED,
    DUPLICATE,
    EMPTY,
    LATE,
    Windower,
    WindowState,
    clean_metrics,
    window_features,
)

W_MS = 60_000


def test_features_match_a_hand_calculation_with_numpy() -> None:
    ts = np.array([1_000, 9_000, 23_000, 31_000, 47_000, 58_000])
    values = np.array([0.20, 0.35, 0.30, 0.55, 0.50, 0.71])
    window = {"cpu.util": dict(zip(ts.tolist(), values.tolist(), strict=True))}
    f = window_features(window, 0, {"cpu.util": 0.25})["cpu.util"]

    t = (ts - ts[0]) / 1000.0
    slope = np.polyfit(t, values, 1)[0]
    assert f.mean == pytest.approx(values.mean(), rel=1e-12)
    assert f.max == 0.71 and f.min == 0.20 and f.last == 0.71
    assert f.p95 == pytest.approx(np.percentile(values, 95), rel=1e-12)
    assert f.slope == pytest.approx(slope, rel=1e-9)
    assert f.volatility == pytest.approx(values.std(), rel=1e-12)
    assert f.rate_of_change == pytest.approx((0.71 - 0.20) / 57.0, rel=1e-12)
    assert f.growth == pytest.approx((values.mean() - 0.25) / 0.25, rel=1e-12)
    assert f.count == 6
    assert f.ts_mean_ms == round(ts.mean())


def test_metrics_sampled_at_different_instants_are_each_right() -> None:
    window = {
        "a": {0: 1.0, 10_000: 3.0},
        "b": {5_000: 10.0, 15_000: 10.0, 25_000: 40.0},
        "c": {7_000: 2.0},  # a single sample: no slope, no rate
    }
    feats = window_features(window, 0)
    assert list(feats) == ["a", "b", "c"]
    assert feats["a"].slope == pytest.approx(0.2)
    assert feats["b"].mean == pytest.approx(20.0)
    assert feats["b"].slope == pytest.approx(np.polyfit([0, 10, 20], [10, 10, 40], 1)[0])
    c = feats["c"]
    assert (c.slope, c.rate_of_change, c.volatility, c.growth) == (0.0, 0.0, 0.0, 0.0)
    assert c.p95 == c.mean == c.max == c.min == 2.0


def test_growth_compares_with_the_previous_window_of_that_metric() -> None:
    w = Windower(60, 0)
    for i in range(6):
        w.add(i * 10_000, {"m": 2.0})
    for i in range(6, 12):
        w.add(i * 10_000, {"m": 3.0})
    w.add(120_000, {"m": 3.0})
    first, second = w.advance()
    assert first.features["m"].growth == 0.0  # no previous window
    assert second.features["m"].growth == pytest.approx(0.5)


def test_a_window_closes_once_the_watermark_passes_its_end_plus_lateness() -> None:
    w = Windower(60, 30)
    assert w.add(5_000, {"m": 1.0})[0] == ACCEPTED
    assert w.add(89_999, {"m": 1.0})[0] == ACCEPTED
    assert w.advance() == []
    w.add(90_000, {"m": 1.0})
    closed = w.advance()
    assert [(c.start_ms, c.end_ms, c.n_samples) for c in closed] == [(0, W_MS, 1)]


def test_out_of_order_within_lateness_is_accepted_and_late_is_refused() -> None:
    w = Windower(60, 30)
    w.add(70_000, {"m": 1.0})
    assert w.add(45_000, {"m": 2.0})[0] == ACCEPTED  # its window [0, 60 s) is still open
    w.add(95_000, {"m": 1.0})
    closed = w.advance()
    assert closed[0].features["m"].count == 1 and closed[0].features["m"].mean == 2.0
    status, taken = w.add(59_000, {"m": 9.0})
    assert (status, taken) == (LATE, {})
    assert w.state.late == 1


def test_duplicates_are_ignored_and_counted_but_split_samples_count() -> None:
    w = Windower(60, 30)
    assert w.add(1_000, {"cpu.util": 0.5})[0] == ACCEPTED
    assert w.add(1_000, {"cpu.util": 0.9}) == (DUPLICATE, {})
    # Telegraf-style: another input's line with the same timestamp is not a duplicate
    assert w.add(1_000, {"mem.used_pct": 40.0}) == (ACCEPTED, {"mem.used_pct": 40.0})
    assert w.add(1_000, {"cpu.util": 0.1, "disk.used_pct": 3.0})[1] == {"disk.used_pct": 3.0}
    assert w.state.duplicates == 1
    (closed,) = w.flush()
    assert closed.features["cpu.util"].mean == 0.5  # first value wins
    assert closed.n_samples == 1


def test_flush_closes_everything_and_what_follows_into_it_is_late() -> None:
    w = Windower(60, 30)
    w.add(1_000, {"m": 1.0})
    w.add(61_000, {"m": 2.0})
    assert [c.start_ms for c in w.flush()] == [0, 60_000]
    assert w.add(119_000, {"m": 3.0})[0] == LATE
    assert w.add(120_000, {"m": 3.0})[0] == ACCEPTED


def test_advance_moves_a_silent_components_watermark() -> None:
    w = Windower(60, 30)
    w.add(1_000, {"m": 1.0})
    assert w.advance(89_999) == []
    assert [c.start_ms for c in w.advance(90_000)] == [0]
    assert w.advance(10) == [] and w.state.watermark_ms == 90_000  # never moves back


def test_odd_values_are_dropped() -> None:
    odd = {
        "ok": 1,
        "nan": float("nan"),
        "inf": float("inf"),
        "bool": True,
        "s": "1",
        3: 1.0,
        "big": 10**400,
        "neg": -2.5,
    }
    assert clean_metrics(odd) == {"ok": 1.0, "neg": -2.5}
    assert clean_metrics(None) == {}
    assert Windower().add(0, {"nan": float("nan")}) == (EMPTY, {})


def test_absurd_magnitudes_give_finite_features_without_warnings() -> None:
    window = {"m": {0: 1e308, 1_000: -1e308, 2_000: 1e308}}
    f = window_features(window, 0, {"m": 1e-300})["m"]
    assert all(np.isfinite([f.mean, f.slope, f.volatility, f.growth, f.rate_of_change]))


def test_state_round_trips_through_json_and_continues_identically() -> None:
    a = Windower(60, 30)
    for i in range(20):
        a.add(i * 7_000, {"m": float(i % 5), "n": float(i)})
    blob = json.dumps(a.state.to_dict())
    b = Windower(60, 30, state=WindowState.from_dict(json.loads(blob)))
    for w in (a, b):
        w.add(140_500, {"m": 1.0})
        w.add(200_000, {"m": 2.0})
    assert a.advance() == b.advance()
    assert a.flush() == b.flush()
    assert a.state == b.state


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 600_000), st.floats(-1e6, 1e6, allow_nan=False)),
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 120),
    st.integers(0, 90),
)
def test_every_accepted_value_lands_in_exactly_one_window(
    samples: list[tuple[int, float]], window_s: int, lateness_s: int
) -> None:
    w = Windower(window_s, lateness_s)
    accepted: dict[int, float] = {}
    closed = []
    for ts, v in samples:
        watermark = w.state.watermark_ms
        status, _ = w.add(ts, {"m": v})
        if watermark is not None and ts >= watermark - lateness_s * 1000:
            assert status != LATE  # within the lateness bound of the watermark: always taken
        if status == ACCEPTED:
            assert ts not in accepted
            accepted[ts] = v
        else:
            assert status == LATE or ts in accepted
        closed += w.advance()
    closed += w.flush()
    assert sum(c.features["m"].count for c in closed) == len(accepted)
    starts = [c.start_ms for c in closed]
    assert starts == sorted(set(starts))  # each window closes once, in order
    for c in closed:
        inside = [v for t, v in accepted.items() if c.start_ms <= t < c.end_ms]
        assert c.features["m"].mean == pytest.approx(np.mean(inside), rel=1e-9, abs=1e-6)
