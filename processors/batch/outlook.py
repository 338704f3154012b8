"""The outlook of many components' closed windows, a round at a time (#14).

:func:`processors.outlook.observe_window` runs in two phases: (a) each rule metric's outlook
learns the window mean, then its forecasts, breach estimates and what its pattern reads
(:func:`~processors.outlook.learn_window`, :func:`~processors.outlook.forecast_windows`),
which read and write only the component's own outlooks; (b) the patterns, which need the
window's health statuses (:func:`~processors.outlook.window_patterns`, when the window is
scored). :func:`outlooks_by_round` runs phase (a) for every window a poll closed: a
component's windows oldest first, each after the one before (its outlooks learn them in
order), round k taking every component's k-th window as one :func:`forecast_windows` (the
line forecasts and breach estimates of the round as one set of numpy rows). The pipeline
then scores each window with its phase (a) given (``window_evidence(..., ahead)``), so the
records are those of :meth:`processors.pipeline.Pipeline.ingest`, bit for bit
(``tests/unit/test_batch_pipeline.py``).

>>> from processors.anomaly import detector_for
>>> from processors.config import PipelineConfig
>>> from processors.componentstate import ComponentState
>>> from processors.features import ClosedWindow, MetricFeatures, Windower
>>> c = PipelineConfig()
>>> rules = {r.metric: [r] for r in c.rules}
>>> f = MetricFeatures(*([0.5] * len(MetricFeatures._fields)))._replace(ts_mean_ms=30_000)
>>> st = ComponentState("a", Windower(60, 30), detector_for(c, "a"))
>>> sink: list = []
>>> outlooks_by_round([(st, [ClosedWindow(0, 60_000, 6, {"cpu.util": f})], sink)],
...                   rules, [0, 60], c)
>>> len(sink), sink[0][0][0][0], sorted(st.outlooks)
(1, 'cpu.util', ['cpu.util'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from processors.batch.trend import fit_trends
from processors.componentstate import ComponentState
from processors.config import PipelineConfig
from processors.evidence import outlook_items
from processors.features import ClosedWindow
from processors.forecast import TrendForecaster
from processors.health import Rule
from processors.outlook import Ahead, Item, forecast_windows

__all__ = ["learn_round", "outlooks_by_round"]

Seen = tuple[list[Item], Ahead]


def outlooks_by_round(
    lanes: Sequence[tuple[ComponentState, Sequence[ClosedWindow], list[Seen]]],
    rules_by_metric: Mapping[str, Sequence[Rule]],
    grid_s: Sequence[int],
    config: PipelineConfig,
) -> None:
    """Phase (a) of every ``(state, closed windows, sink)``: each window's items and
    :class:`Ahead`, appended to its sink in the windows' order. A state's windows across lanes
    are taken in lane order, oldest first; round k is every state's k-th window."""
    queues: dict[int, list[tuple[ComponentState, ClosedWindow, list[Seen]]]] = {}
    for st, closed, sink in lanes:
        queues.setdefault(id(st), []).extend((st, w, sink) for w in closed)
    per_state = list(queues.values())
    horizons = config.forecast_horizons_s
    for k in range(max((len(q) for q in per_state), default=0)):
        batch: list[tuple[list[Item], int, list[Seen]]] = []
        for q in per_state:
            if len(q) > k:
                st, w, sink = q[k]
                items = outlook_items(w, st.outlooks, rules_by_metric, config)
                batch.append((items, w.end_ms, sink))
        learn_round([it for items, _, _ in batch for it in items])
        aheads = forecast_windows([(items, end) for items, end, _ in batch], grid_s, horizons,
                                  config.season_recent, config.season_alarm)
        for (items, _, sink), a in zip(batch, aheads, strict=True):
            sink.append((items, a))


def learn_round(items: Sequence[Item]) -> None:
    """:func:`~processors.outlook.learn_window` of a round's items (no outlook twice), the line
    forecasters' trend refits as rows of :func:`~processors.batch.trend.fit_trends` — each
    outlook learns with ``refit=False``, then every forecaster that took the point gets the
    fit ``fit_trend`` would have given it (nothing reads a fit between the two)."""
    due: list[TrendForecaster] = []
    for _, f, o, _ in items:
        before = o.forecaster
        last = before.ts_ms[-1] if isinstance(before, TrendForecaster) and before.ts_ms else None
        o.learn_one(f.ts_mean_ms, f.mean, refit=False)
        fc = o.forecaster  # a new one if the drift test restarted it (it took the point)
        if isinstance(fc, TrendForecaster) and fc.ts_ms and (fc is not before
                                                               or fc.ts_ms[-1] != last):
            due.append(fc)
    by_len: dict[int, list[TrendForecaster]] = {}
    for fc in due:
        if len(fc.ts_ms) < fc.min_points:
            fc.set_fit(None)
        else:
            by_len.setdefault(len(fc.ts_ms), []).append(fc)
    for group in by_len.values():
        fits = fit_trends([fc.ts_ms for fc in group], [fc.values for fc in group])
        for fc, fit in zip(group, fits, strict=True):
            fc.set_fit(fit)
