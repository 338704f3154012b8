"""The outlook's phase (a) across components (``processors.batch.outlook``): a round of
windows stacked gives each window's numbers bit for bit, and the batch pipeline uses it."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import processors.batch.outlook
import processors.evidence
from processors.batch.outlook import learn_round
from processors.batch.pipeline import BatchPipeline
from processors.batch.trend import fit_trends
from processors.evidence import outlook_items
from processors.features import MetricFeatures
from processors.forecast import TrendForecaster
from processors.metricoutlook import MetricOutlook
from processors.outlook import Ahead, forecast_windows, learn_window
from processors.pipeline import Pipeline
from streams.runtime.worker import pipeline_config
from streams.settings import Settings
from streams.sim.examples import fleet_samples
from streams.sim.simulator import Fleet, scenario


def _aheads(stacked: bool) -> list[Ahead]:
    """Every closed window of the bench data and the ``ramp`` scenario, its outlooks learnt
    window by window; phase (a) per window alone, or every component's k-th window in one
    call."""
    p = Pipeline(pipeline_config(Settings.load(env={})))
    ramp = [s for step in Fleet(scenario("ramp", seed=42)).run() for s in step][:6_000]
    for s in fleet_samples(3_000) + ramp:
        p._accept(s)  # windows only: the outlooks below see each window once
    got: list[Ahead] = []
    names = p.components()
    states = [p._states[c] for c in names]
    closed = [list(st.windower.flush()) for st in states]
    for k in range(max(len(c) for c in closed)):
        round_ = []
        for st, windows in zip(states, closed, strict=True):
            if k < len(windows):
                items = outlook_items(windows[k], st.outlooks, p._rules_by_metric, p.config)
                learn_window(items)
                round_.append((items, windows[k].end_ms))
        h = p.config.forecast_horizons_s
        if stacked:
            got += forecast_windows(round_, p._grid, h)
        else:
            got += [forecast_windows([w], p._grid, h)[0] for w in round_]
    return got


def test_a_round_stacked_equals_each_window_alone() -> None:
    alone, stacked = _aheads(False), _aheads(True)
    assert len(alone) > 500 and sum(len(a.forecasts) for a in alone) > 5_000
    assert sum(len(e) for a in alone for e in a.estimates.values()) > 0
    assert repr(stacked) == repr(alone)


def test_the_batch_pipeline_scores_with_phase_a_computed_ahead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch path never runs the per-window outlook (it would if the rounds' results
    were not passed on to the scoring); the records are still those of ``ingest``."""
    samples = fleet_samples(1_200)
    one = Pipeline(pipeline_config(Settings.load(env={})))
    want = [repr(r) for s in samples for r in one.ingest(s).risk]

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("observe_window ran per window in the batch path")

    monkeypatch.setattr(processors.evidence, "observe_window", refuse)
    many = BatchPipeline(pipeline_config(Settings.load(env={})))
    got = [repr(r) for i in range(0, len(samples), 300)
           for r in many.ingest_batch(samples[i:i + 300]).risk]
    assert len(want) > 100 and got == want


def _series(kind: str, n: int, seed: int) -> list[list[tuple[int, float]]]:
    """Window means of a few metrics: a season, a ramp, level shifts (drift restarts), a flat
    line, NaNs, repeated and backward times, values from 1e-9 to 1e9."""
    rng = np.random.default_rng(seed)
    shapes: list[Callable[[int], float]] = [
        lambda i: 60 + 8 * math.sin(2 * math.pi * i / 48),
        lambda i: 0.3 + 0.004 * i,
        lambda i: 10.0 if (i // 90) % 2 == 0 else 400.0,
        lambda i: 40.0,
        lambda i: 1e9 + 1e3 * (i % 7),
        lambda i: 1e-9 * (1 + i % 5),
    ]
    out = []
    for fn in shapes:
        pts, ts = [], 0
        for i in range(n):
            ts += 60_000 if rng.random() > 0.05 else int(rng.choice([0, -60_000, 30_000]))
            v = fn(i) * (1 + 0.01 * float(rng.standard_normal()))
            pts.append((ts, math.nan if rng.random() < 0.03 else v))
        out.append(pts)
    return out


def _deep(x: Any) -> Any:
    """Everything an object holds, recursively, as plain values (floats by their repr)."""
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, dict):
        return {k: _deep(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_deep(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tobytes()
    if hasattr(x, "tolist"):
        return _deep(x.tolist())
    names = [n for c in type(x).__mro__ for n in getattr(c, "__slots__", ())]
    if names or hasattr(x, "__dict__"):
        got = {n: getattr(x, n) for n in names if hasattr(x, n)} | getattr(x, "__dict__", {})
        return (type(x).__name__, _deep(got))
    return x


@pytest.mark.parametrize("kind", ["seasonal", "trend"])
def test_a_round_learnt_with_batched_refits_equals_learning_one_by_one(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``learn_round`` (refits as ``fit_trends`` rows) leaves every outlook as ``learn_one``
    does, round after round, and never refits a forecaster one at a time."""
    series = _series(kind, 700, 5) + _series(kind, 700, 6)
    drift = [0.0] * 6 + [5.0] * 6  # the first six without a drift test: seasons are found
    alone = [MetricOutlook(kind, 60, threshold=t) for t in drift]
    batched = [MetricOutlook(kind, 60, threshold=t) for t in drift]
    rows = []

    def counted(ts: Any, ys: Any) -> Any:
        rows.append(len(ts))
        return fit_trends(ts, ys)

    def refuse(*_: Any) -> None:
        raise AssertionError("a forecaster refit alone in learn_round")

    monkeypatch.setattr(processors.batch.outlook, "fit_trends", counted)
    for i in range(700):
        feats = [MetricFeatures(*([0] * len(MetricFeatures._fields)))._replace(
            ts_mean_ms=s[i][0], mean=s[i][1]) for s in series]
        for o, f in zip(alone, feats, strict=True):
            o.learn_one(f.ts_mean_ms, f.mean)
        with monkeypatch.context() as m:
            m.setattr(TrendForecaster, "_refit", refuse)
            learn_round([("m", f, o, []) for o, f in zip(batched, feats, strict=True)])
        assert [_deep(o) for o in batched] == [_deep(o) for o in alone], i
    assert sum(o.drifts for o in alone) > 0 and max(rows) == len(series)
    if kind == "seasonal":
        assert any(o.period is not None for o in alone)
