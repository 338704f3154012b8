"""Risk: the probability of a *new* FAIL (a FAIL onset) of a component within ``horizon_s``.

This module holds the evidence, the logistic combiner and the one protocol the pipeline scores
through, :class:`RiskModel`: ``score_one(base, states)``, ``learn_one(base, states, y)`` and
``assess(base, states)`` (the score with its explanation). The model the pipeline runs is
:class:`processors.calibration.RiskLearner`: a Bayesian network over per-metric states and
parent context, this module's combiner on top of it, and isotonic calibration, all learnt from
delayed labels. The base evidence, computed at the close of a window:

* ``breach`` — the forecast breach probability of the metrics not in FAIL lately: the
  largest, over forecast horizons up to ``horizon_s``, of ``P(value_h crosses the FAIL
  threshold)``, taken as normal with the forecaster's mean and spread widened by the window's
  sample volatility, because rules judge single samples, not window means (see
  :func:`estimate_breach`);
* ``warn`` / ``fail`` — 1 when the component's worst current health status is WARN / FAIL;
* ``anomaly`` — the window's anomaly score, 0..1;
* ``growth`` — 1 when a metric shows a growth pattern (:data:`GROWTH_PATTERNS`);
* ``context`` — how badly the component's declared parents stand, 0..1;

plus ``bn``, the network's log-odds (added by the learner). The combiner
(:class:`LogisticRisk`) is ``sigmoid(bias + sum(w_k * x_k))`` from priors: :data:`PRIORS`
here, with the onset target's weights in :data:`processors.calibration.ONSET_PRIORS` (being
FAIL already says little about a *new* FAIL: weight 1.0, not 7.5). Its weights stay at the
priors by default (``lr=0``); learning happens in the network's counts and the calibration.

Contributors share the positive terms of that sum among their causes: the breach term among
metrics in proportion to their breach probability, the status terms among the metrics at that
status, the network's term among its nodes, the anomaly term under ``"anomaly"``; shares sum
to 1. Each contributing metric's share is also credited to the pattern it shows (see
:func:`pattern_of`): ``in_breach``, ``linear_growth`` (a steady trend towards the threshold),
``exponential_growth``, ``fragmentation``, ``step_change``, ``spike``, ``periodic``,
``drift``; a latency or error-rate metric's share is also credited to ``pattern:sla``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from processors.forecast import ForecastPoint, TrendFit
from processors.nativeattr import mypyc_attr

PRIORS: dict[str, float] = {"breach": 8.0, "warn": 2.0, "fail": 7.5, "anomaly": 2.5}
PRIOR_BIAS = -4.0


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@dataclass(frozen=True)
class BreachEstimate:
    metric: str
    threshold: float
    eta_s: float
    probability: float
    # the probability the alarm reads where it differs (``dayprofile.BLIND_ALARM``: the
    # first day's mixture); ``None``: ``probability``. Not in the record
    alarm: float | None = None

    @property
    def alarm_p(self) -> float:
        return self.probability if self.alarm is None else self.alarm

    def as_record(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "threshold": self.threshold,
            "eta_s": self.eta_s,
            "probability": self.probability,
        }


def estimate_breach(
    metric: str,
    threshold: float,
    sign: float,
    points: Sequence[ForecastPoint],
    extra_std: float = 0.0,
    z: float = 1.959963984540054,
) -> BreachEstimate | None:
    """The first crossing of ``threshold`` by the interval's bad edge, if any.

    ``points`` are forecasts at increasing horizons from the score's ``ts`` (horizon 0
    first, ideally). ``sign`` is +1 when high values are bad. ``extra_std`` (the window's
    sample volatility) is added in quadrature, because a health rule judges single samples,
    not window means. ``eta_s`` interpolates linearly between the two horizons that bracket
    the crossing; ``probability`` is the largest ``P(crossed)`` over the points.
    """
    prob = 0.0
    prev: tuple[float, float] | None = None  # (horizon, bad edge - threshold) before crossing
    eta: float | None = None
    for p in points:
        std = math.sqrt(p.std * p.std + extra_std * extra_std)
        gap = sign * (p.mean - threshold)  # > 0: the mean is past the threshold
        edge = gap + z * std
        if std > 0:
            u = gap / std
            if u > -9.0:  # below, the probability is < 1e-19: not worth an erfc
                prob = max(prob, normal_cdf(u))
        elif gap >= 0:
            prob = 1.0
        if eta is None and edge >= 0:
            if prev is None:
                eta = float(p.horizon_s)
            else:
                h0, e0 = prev
                eta = h0 + (p.horizon_s - h0) * (-e0) / (edge - e0) if edge > e0 else h0
        prev = (float(p.horizon_s), edge)
    if eta is None or not math.isfinite(prob):
        return None
    return BreachEstimate(metric, threshold, max(0.0, eta), prob)


SLA_WORDS = ("latency", "error")  # metrics whose growth is an SLA signal
# patterns of a metric growing towards its threshold: the combiner's ``growth`` evidence
GROWTH_PATTERNS = frozenset(
    {"pattern:linear_growth", "pattern:exponential_growth", "pattern:fragmentation"}
)


def pattern_of(
    fit: TrendFit | None,
    sign: float,
    growth: float,
    volatility: float,
    mean: float,
    peak: float,
    failing: bool,
    accelerating: bool = False,
    periodic: bool = False,
    fragmented: bool = False,
) -> str | None:
    """A name for what a metric is doing, from its recent trend and its last window.

    Memory-leak shapes (after Precog's taxonomy): ``fragmentation`` (a sawtooth whose troughs
    climb: each collection gives back less; named before the others, since the rising half
    of each tooth also looks like a line), ``exponential_growth`` (the change per window keeps
    growing), ``linear_growth`` (a steady line towards the threshold), ``periodic`` (a season
    was found: a sawtooth of allocation and collection whose troughs stay level, say).
    """
    if failing:
        return "pattern:in_breach"
    if fragmented:
        return "pattern:fragmentation"
    rising = fit is not None and sign * fit.slope > 0
    if accelerating and rising and fit is not None and fit.r2 >= 0.6:
        return "pattern:exponential_growth"
    if fit is not None and fit.r2 >= 0.8 and rising and fit.n >= 4:
        return "pattern:linear_growth"
    if abs(growth) >= 0.25:
        return "pattern:step_change"
    if volatility > 0 and sign * (peak - mean) > 3 * volatility:
        return "pattern:spike"
    if periodic:
        return "pattern:periodic"
    if rising:
        return "pattern:drift"
    return None


def is_sla_metric(metric: str) -> bool:
    """Latency and error-rate metrics: their growth also counts as ``pattern:sla``."""
    return any(w in metric for w in SLA_WORDS)


@dataclass(frozen=True)
class Assessment:
    """One window's risk with what explains it: the combiner's additive ``terms`` of the
    log-odds (for :func:`contributors`) and the network's per-node log-likelihood ratios."""

    risk: float
    terms: dict[str, float]
    drivers: dict[str, float]


class RiskModel(Protocol):
    """The one risk model protocol the pipeline calls, River style: score, then learn later.

    ``base`` is the window's evidence (see the module doc), ``states`` its discretised metric
    states (:func:`processors.bayesnet.metric_state`, plus ``context``)."""

    def score_one(self, base: Mapping[str, float], states: Mapping[str, int]) -> float: ...

    def learn_one(self, base: Mapping[str, float], states: Mapping[str, int], y: bool) -> None:
        ...

    def assess(self, base: Mapping[str, float], states: Mapping[str, int]) -> Assessment:
        """:meth:`score_one` with its explanation, in one pass."""
        ...


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class LogisticRisk:
    """The combiner: logistic regression over the evidence, from (by default kept at) priors;
    ``terms`` are each evidence's additive share of the log-odds."""

    weights: dict[str, float] = field(default_factory=lambda: dict(PRIORS))
    bias: float = PRIOR_BIAS
    lr: float = 0.0

    def terms(self, x: Mapping[str, float]) -> dict[str, float]:
        return {k: w * float(x.get(k, 0.0)) for k, w in self.weights.items()}

    def score_one(self, x: Mapping[str, float]) -> float:
        return self.score_terms(self.terms(x))

    def score_terms(self, terms: Mapping[str, float]) -> float:
        """:meth:`score_one` from the :meth:`terms` of its evidence (computed once, #14)."""
        s = self.bias + math.fsum(terms.values())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, s))))

    def learn_one(self, x: Mapping[str, float], y: bool) -> None:
        if self.lr <= 0:
            return None
        g = float(y) - self.score_one(x)
        self.bias += self.lr * g
        for k in self.weights:
            self.weights[k] += self.lr * g * float(x.get(k, 0.0))
        return None


def contributors(
    terms: Mapping[str, float],
    breach_by_metric: Mapping[str, float],
    status_metrics: Sequence[str],
    patterns: Mapping[str, str],
    status_term: str | None,
    min_term: float = 1e-3,
    bn_nodes: Mapping[str, float] | None = None,
    growth_metrics: Sequence[str] = (),
) -> dict[str, float]:
    """Shares of the positive evidence terms, by metric (and ``"anomaly"``), plus patterns.

    The network's term (``"bn"``) goes to its nodes in proportion to their positive
    log-likelihood ratios (``bn_nodes``; the ``context`` node is credited as ``"context"``),
    the growth term to ``growth_metrics``.
    """
    raw: dict[str, float] = {}
    n = terms.get("bn", 0.0)
    pos = {k: v for k, v in (bn_nodes or {}).items() if v > 0}
    if n > min_term and pos:
        total_llr = math.fsum(pos.values())
        for m, v in pos.items():
            raw[m] = raw.get(m, 0.0) + n * v / total_llr
    g = terms.get("growth", 0.0)
    if g > min_term and growth_metrics:
        for m in growth_metrics:
            raw[m] = raw.get(m, 0.0) + g / len(growth_metrics)
    b = terms.get("breach", 0.0)
    total_p = math.fsum(breach_by_metric.values())
    if b > min_term and total_p > 0:
        for m, p in breach_by_metric.items():
            raw[m] = raw.get(m, 0.0) + b * p / total_p
    s = terms.get(status_term, 0.0) if status_term else 0.0
    if s > min_term and status_metrics:
        for m in status_metrics:
            raw[m] = raw.get(m, 0.0) + s / len(status_metrics)
    a = terms.get("anomaly", 0.0)
    if a > min_term:
        raw["anomaly"] = a
    total = math.fsum(raw.values())
    if total <= 0:
        return {}
    out = {k: v / total for k, v in sorted(raw.items()) if v / total >= 1e-4}
    for m, share in list(out.items()):
        pattern = patterns.get(m)
        if pattern:
            out[pattern] = out.get(pattern, 0.0) + share
        if pattern and pattern != "pattern:in_breach" and is_sla_metric(m):
            out["pattern:sla"] = out.get("pattern:sla", 0.0) + share
    return out
