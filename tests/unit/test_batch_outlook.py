"""The outlook's phase (a) across components (``processors.batch.outlook``): a round of
windows stacked gives each window's numbers bit for bit, and the batch pipeline uses it."""

from __future__ import annotations

from typing import Any

import pytest

import processors.evidence
from processors.batch.pipeline import BatchPipeline
from processors.evidence import outlook_items
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
