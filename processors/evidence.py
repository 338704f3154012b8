"""One closed window's forecast evidence for the risk model: breaches, metric states, patterns.

:func:`window_evidence` runs each rule metric's outlook (:mod:`processors.outlook`: forecasts,
breach estimates, patterns) and reduces it to what :class:`~processors.risk.RiskModel` reads:

* ``p_new`` — the largest breach probability of a metric *not* in FAIL within the horizon
  before the window (its next crossing would be the same breach, not a new onset); the
  ``breach`` evidence for ``risk_target="onset"``;
* ``best`` — the most probable (then the earliest) breach of any metric, the record's
  ``breach``; its probability is the ``breach`` evidence for ``risk_target="fail"``;
* ``states`` — each rule metric's network state (:func:`~processors.bayesnet.metric_state`,
  the worst over its rules);
* ``patterns`` and ``growing`` — what each metric is doing, and those growing towards a
  threshold (:data:`~processors.risk.GROWTH_PATTERNS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from processors.bayesnet import metric_state
from processors.calibration import PendingLabels
from processors.config import PipelineConfig
from processors.features import ClosedWindow
from processors.forecastrecord import mark_over, weigh
from processors.health import Rule, Status
from processors.metricoutlook import MetricOutlook
from processors.outlook import Ahead, Item, WindowOutlook, observe_window, window_patterns
from processors.risk import GROWTH_PATTERNS, BreachEstimate

__all__ = ["WindowEvidence", "outlook_items", "window_evidence"]


@dataclass(init=False)  # its own __init__: mypyc leaves a dataclass's interpreted (#14, s29)
class WindowEvidence:
    best: BreachEstimate | None
    p_new: float
    breach_p: dict[str, float]  # metric -> its largest
    states: dict[str, int]
    forecasts: list[dict[str, Any]]
    patterns: dict[str, str]
    growing: list[str]
    warn: float  # the weight of the warn evidence (``warn_trust``; 1: in full)
    # ``p_new`` and ``warn`` before the records weighed them, where they did (s20: the
    # allocators' ``act``); ``None``: equal to ``p_new`` and ``warn``
    unweighed: tuple[float, float] | None

    def __init__(self, best: BreachEstimate | None = None, p_new: float = 0.0,
                 breach_p: dict[str, float] | None = None, states: dict[str, int] | None = None,
                 forecasts: list[dict[str, Any]] | None = None,
                 patterns: dict[str, str] | None = None, growing: list[str] | None = None,
                 warn: float = 1.0, unweighed: tuple[float, float] | None = None) -> None:
        self.best, self.p_new, self.warn, self.unweighed = best, p_new, warn, unweighed
        self.breach_p = breach_p if breach_p is not None else {}
        self.states = states if states is not None else {}
        self.forecasts = forecasts if forecasts is not None else []
        self.patterns = patterns if patterns is not None else {}
        self.growing = growing if growing is not None else []

    @property
    def p_any(self) -> float:
        return self.best.probability if self.best is not None else 0.0


def window_evidence(
    window: ClosedWindow,
    outlooks: dict[str, MetricOutlook],
    rules_by_metric: Mapping[str, Sequence[Rule]],
    statuses: Mapping[str, int],
    failed: set[str],
    grid_s: Sequence[int],
    config: PipelineConfig,
    ahead: tuple[list[Item], Ahead] | None = None,
    pending: PendingLabels | None = None,
) -> WindowEvidence:
    """The window's evidence; ``outlooks`` (metric -> its outlook) gains the metrics new here,
    ``failed`` are the metrics in FAIL lately. ``ahead``: the window's items and the phase
    (a) of its outlook, computed already (the batch core, :mod:`processors.batch.outlook`).
    With ``forecast_trust`` / ``warn_trust``, ``p_new`` / ``warn`` weigh each metric's breach
    forecasts / WARN spells by their record (:func:`~processors.forecastrecord.weigh`;
    ``pending``: the component's pending labels, whose acted intervals it reads)."""
    if ahead is None:
        items = outlook_items(window, outlooks, rules_by_metric, config)
        seen = observe_window(items, window.end_ms, statuses, grid_s, config.forecast_horizons_s,
                              config.season_recent, config.season_alarm)
    else:
        items, a = ahead
        seen = WindowOutlook(a.forecasts, a.estimates, window_patterns(items, a, statuses))
    ev = WindowEvidence(forecasts=seen.forecasts, patterns=seen.patterns)
    ev.growing = [m for m, p in seen.patterns.items() if p in GROWTH_PATTERNS]
    best = None
    p_alarm = 0.0  # ``p_new`` of the alarm's probabilities (``BreachEstimate.alarm``)
    for metric, f, _, metric_rules in items:
        estimates = seen.estimates[metric]
        p_metric = 0.0
        for est in estimates:
            p_metric = max(p_metric, est.probability)
            if best is None or (est.probability, -est.eta_s) > (best.probability, -best.eta_s):
                best = est
            if metric not in failed:
                ev.p_new = max(ev.p_new, est.probability)
                p_alarm = max(p_alarm, est.alarm_p)
        if estimates:
            ev.breach_p[metric] = p_metric
        if len(metric_rules) == 1:  # the usual case, without a generator (#14)
            r = metric_rules[0]
            ev.states[metric] = metric_state(f.mean, r.warn, r.fail, r.sign, p_metric)
        else:
            ev.states[metric] = max(
                metric_state(f.mean, r.warn, r.fail, r.sign, p_metric) for r in metric_rules
            )
    ev.best = best
    _weigh(ev, items, outlooks, statuses, failed, window.end_ms, config, pending, p_alarm)
    return ev


def _weigh(ev: WindowEvidence, items: Sequence[Item], outlooks: Mapping[str, MetricOutlook],
           statuses: Mapping[str, int], failed: set[str], end_ms: int,
           config: PipelineConfig, pending: PendingLabels | None, p_alarm: float) -> None:
    """The alarm's ``p_new`` and ``warn`` weighed by the records (``forecast_trust`` /
    ``warn_trust``) and, with ``dayprofile.BLIND_ALARM``, no more than ``p_alarm`` (the first
    day's mixture); ``ev.unweighed`` keeps what they were before, where they changed."""
    raw = ev.p_new
    if config.forecast_trust > 0 or config.warn_trust > 0:
        if config.hover:
            mark_over(items, end_ms)
        at_warn = {m: max(statuses.get(r.name, 0) for r in rules) == Status.WARN
                   for m, _, _, rules in items} if config.warn_trust > 0 else {}
        p_new, ev.warn = weigh(outlooks, ev.breach_p, at_warn, failed, end_ms,
                               config.horizon_s * 1000,
                               (config.forecast_trust, config.warn_trust), pending,
                               config.hover)
        ev.p_new = ev.p_new if p_new is None else p_new
    ev.p_new = min(ev.p_new, p_alarm)
    if ev.p_new != raw or ev.warn != 1.0:
        ev.unweighed = (raw, 1.0)


def outlook_items(
    window: ClosedWindow,
    outlooks: dict[str, MetricOutlook],
    rules_by_metric: Mapping[str, Sequence[Rule]],
    config: PipelineConfig,
) -> list[Item]:
    """The window's rule metrics as outlook items; ``outlooks`` gains the metrics new here."""
    c = config
    items: list[Item] = []
    for metric, f in window.features.items():
        rules = rules_by_metric.get(metric)
        if rules is None:
            continue
        o = outlooks.get(metric)
        if o is None:
            o = outlooks[metric] = MetricOutlook(
                c.forecaster, c.window_s, c.trend_windows, c.drift_threshold,
                profile_bins=c.day_profile_bins,
            )
        items.append((metric, f, o, rules))
    return items
