"""Breach-prediction scoring: risk events against a ground-truth timeline of breaches.

Inputs are plain values: :class:`RiskEvent` (``component, ts_ms, risk, eta_s``, as in the
``RiskScore`` record), :class:`Breach` (``component, metric, breach_ms``: the moment a metric
crossed its threshold) and each component's observed span ``(start_ms, end_ms)``.

Definitions (``h`` is ``horizon_s``):

* An **alarm** is a risk event with ``risk >= threshold``. An **alarm episode** is a maximal
  run of consecutive alarms of one component, in time order (a non-alarm event ends it).
  Where every event of a component carries an alarm state (``RiskEvent.alarm``, the
  pipeline's ``alarm_hold_s``, s29), its episodes are the runs of that state instead (the
  pages), and only their alarms make them true: a window held firing under the threshold
  merges alarms into one page, it predicts nothing (recall, lead times and the Brier stay the
  risk's). ``score_breaches(..., pages=False)`` counts the risk crossing as before.
* An alarm at ``ts`` is **followed by a breach** when a breach of its component falls in
  ``(ts, ts + h]``; an episode is **true** when any of its alarms is. A false episode whose
  first alarm is within ``h`` of the span's end is *censored* (the future that would decide it
  was not observed) and left out of precision and false-alarm counts.
* **Precision** = true episodes / uncensored episodes (NaN when there are none).
* A breach at ``b`` is **predicted at lead** ``L`` when an alarm of its component falls in
  ``[b - h, b - L]``. **Recall@L** = predicted breaches / all breaches (each metric's breach
  counts on its own; breaches too close to the span's start to be foreseen still count).
* **Lead time** of a breach: ``b`` minus the first alarm in ``[b - h, b)``, in seconds, for
  breaches with such an alarm (so at most ``h``). **ETA error**: for that same alarm,
  ``|ts + eta_s - b|`` in seconds, when it carries an ETA.
* **False alarms per component-day** = false uncensored episodes / total observed span, days.
* **Brier score** and the **reliability curve** (equal-width bins over ``[0, 1]``) compare
  ``risk`` with the label "a breach of the component occurs in ``(ts, ts + h]``", over every
  event whose label is known (label 1, or ``ts + h <= span end``). Risk is P(a *new* FAIL
  within ``h``), so when the component's FAIL intervals are given (``failing``), an event
  inside one of them is left out unless a new breach follows it within ``h`` (label 1): a
  component already failing is not asked whether it will start to fail, and labelling those
  windows 0 (as this scorer did without ``failing``) scored the risk model on a question it
  does not answer.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_LEADS_S: tuple[int, ...] = (60, 300, 900)


@dataclass(frozen=True)
class RiskEvent:
    """A risk estimate for a component at event time ``ts_ms``; ``eta_s`` is the forecast
    time to breach from ``ts_ms``, if any."""

    component: str
    ts_ms: int
    risk: float
    eta_s: float | None = None
    alarm: bool | None = None  # the alarm state, where the pipeline carries one (s29)


@dataclass(frozen=True)
class Breach:
    """Ground truth: ``metric`` of ``component`` crossed its threshold at ``breach_ms``."""

    component: str
    metric: str
    breach_ms: int


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of a reliability curve; ``mean_risk``/``frequency`` are NaN when empty."""

    lower: float
    upper: float
    count: int
    mean_risk: float
    frequency: float


@dataclass(frozen=True)
class BreachReport:
    """Breach-prediction scores at one threshold."""

    threshold: float
    horizon_s: float
    episodes: int
    true_episodes: int
    censored_episodes: int
    precision: float
    breaches: int
    recall: Mapping[int, float]
    lead_times_s: tuple[float, ...]
    eta_abs_errors_s: tuple[float, ...]
    false_alarms_per_component_day: float
    brier: float
    reliability: tuple[ReliabilityBin, ...]

    def f1(self, lead_s: int) -> float:
        """F1 of episode precision and recall at ``lead_s`` (0 when either is 0 or NaN)."""
        p, r = self.precision, self.recall[lead_s]
        if math.isnan(p) or math.isnan(r) or p + r == 0:
            return 0.0
        return 2 * p * r / (p + r)


@dataclass(frozen=True)
class _Component:
    """One component's events (time-sorted) and breach times (sorted)."""

    ts: IntArray
    risk: FloatArray
    eta_s: FloatArray  # NaN where absent
    breaches: IntArray
    span_end: int
    failing: npt.NDArray[np.bool_]  # per event: inside one of the component's FAIL intervals
    alarm: npt.NDArray[np.bool_] | None  # the alarm state, where every event carries one


def _group(
    events: Iterable[RiskEvent],
    breaches: Iterable[Breach],
    spans: Mapping[str, tuple[int, int]],
    failing: Mapping[str, Sequence[tuple[int, int]]] | None = None,
) -> dict[str, _Component]:
    ev: dict[str, list[RiskEvent]] = defaultdict(list)
    br: dict[str, list[int]] = defaultdict(list)
    for e in events:
        if e.component not in spans:
            raise ValueError(f"risk event for {e.component!r}, which has no observed span")
        if not 0.0 <= e.risk <= 1.0:
            raise ValueError(f"{e.component}@{e.ts_ms}: risk {e.risk} is outside [0, 1]")
        ev[e.component].append(e)
    for b in breaches:
        if b.component not in spans:
            raise ValueError(f"breach of {b.component!r}, which has no observed span")
        br[b.component].append(b.breach_ms)
    out: dict[str, _Component] = {}
    for comp, (start, end) in spans.items():
        if end < start:
            raise ValueError(f"{comp}: span end {end} before start {start}")
        items = sorted(ev.get(comp, []), key=lambda e: e.ts_ms)
        ts = np.array([e.ts_ms for e in items], dtype=np.int64)
        inside = np.zeros(ts.size, dtype=bool)
        for lo, hi in (failing or {}).get(comp, ()):
            inside |= (ts >= lo) & (ts < hi)
        out[comp] = _Component(
            ts=ts,
            risk=np.array([e.risk for e in items], dtype=np.float64),
            eta_s=np.array(
                [math.nan if e.eta_s is None else e.eta_s for e in items], dtype=np.float64
            ),
            breaches=np.sort(np.array(br.get(comp, []), dtype=np.int64)),
            span_end=end,
            failing=inside,
            alarm=np.array([bool(e.alarm) for e in items], dtype=bool)
            if items and all(e.alarm is not None for e in items) else None,
        )
    return out


def _followed(ts: IntArray, breaches: IntArray, horizon_ms: int) -> npt.NDArray[np.bool_]:
    """For each ``ts``: is there a breach in ``(ts, ts + horizon]``?"""
    first_after = np.searchsorted(breaches, ts, side="right")
    last_within = np.searchsorted(breaches, ts + horizon_ms, side="right")
    return np.asarray(last_within > first_after)


def _labels(comps: Mapping[str, _Component], horizon_ms: int) -> tuple[FloatArray, FloatArray]:
    risks: list[FloatArray] = [np.empty(0)]
    labels: list[FloatArray] = [np.empty(0)]
    for c in comps.values():
        y = _followed(c.ts, c.breaches, horizon_ms)
        known = y | ((c.ts + horizon_ms <= c.span_end) & ~c.failing)
        risks.append(c.risk[known])
        labels.append(y[known].astype(np.float64))
    return np.concatenate(risks), np.concatenate(labels)


def event_labels(
    events: Iterable[RiskEvent],
    breaches: Iterable[Breach],
    spans: Mapping[str, tuple[int, int]],
    horizon_s: float,
    failing: Mapping[str, Sequence[tuple[int, int]]] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """``(risk, label)`` of every event whose label is known; label 1.0 when a breach of its
    component follows within ``(ts, ts + horizon]``."""
    return _labels(_group(events, breaches, spans, failing), round(horizon_s * 1000))


def brier_score(probs: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Mean squared difference of probability and 0/1 outcome (NaN when empty)."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    return float(np.mean((p - y) ** 2)) if p.size else math.nan


def reliability_curve(
    probs: npt.ArrayLike, labels: npt.ArrayLike, n_bins: int = 10
) -> tuple[ReliabilityBin, ...]:
    """Equal-width bins over ``[0, 1]`` (the last one closed): count, mean probability and
    observed frequency of the label."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    idx = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    bins: list[ReliabilityBin] = []
    for k in range(n_bins):
        sel = idx == k
        n = int(np.count_nonzero(sel))
        mean_p = float(p[sel].mean()) if n else math.nan
        freq = float(y[sel].mean()) if n else math.nan
        bins.append(ReliabilityBin(k / n_bins, (k + 1) / n_bins, n, mean_p, freq))
    return tuple(bins)


def _episodes(alarm: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Runs of True as ``(first, last)`` indices, inclusive."""
    edges = np.diff(np.concatenate(([0], alarm.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1) - 1
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def _check(horizon_s: float, leads_s: Sequence[int]) -> int:
    if horizon_s <= 0:
        raise ValueError(f"horizon_s must be positive, got {horizon_s}")
    if any(not 0 <= lead <= horizon_s for lead in leads_s):
        raise ValueError(f"leads {list(leads_s)} s must lie in [0, horizon_s={horizon_s}]")
    return round(horizon_s * 1000)


@dataclass(frozen=True)
class _Calibration:
    brier: float
    reliability: tuple[ReliabilityBin, ...]


def _score(
    comps: Mapping[str, _Component],
    days: float,
    calibration: _Calibration,
    threshold: float,
    horizon_s: float,
    leads_s: Sequence[int],
    pages: bool = True,
) -> BreachReport:
    horizon_ms = round(horizon_s * 1000)
    n_episodes = n_true = n_censored = 0
    predicted = dict.fromkeys(leads_s, 0)
    lead_times: list[float] = []
    eta_errors: list[float] = []
    for c in comps.values():
        alarm = c.risk >= threshold
        followed = _followed(c.ts, c.breaches, horizon_ms)
        runs = c.alarm if pages and c.alarm is not None else alarm
        for first, last in _episodes(runs):
            if (followed[first : last + 1] & alarm[first : last + 1]).any():
                n_true += 1
                n_episodes += 1
            elif c.ts[first] + horizon_ms > c.span_end:
                # Only an episode that *began* within h of the end is undecided; one that began
                # earlier had a full horizon to be followed by a breach and was not.
                n_censored += 1
            else:
                n_episodes += 1
        alarm_ts = c.ts[alarm]
        alarm_eta = c.eta_s[alarm]
        for b in c.breaches.tolist():
            lo = int(np.searchsorted(alarm_ts, b - horizon_ms, side="left"))
            for lead in leads_s:
                hi = int(np.searchsorted(alarm_ts, b - round(lead * 1000), side="right"))
                predicted[lead] += hi > lo
            if lo < alarm_ts.size and alarm_ts[lo] < b:
                first_ms = int(alarm_ts[lo])
                lead_times.append((b - first_ms) / 1000.0)
                eta = float(alarm_eta[lo])
                if not math.isnan(eta):
                    eta_errors.append(abs((first_ms - b) / 1000.0 + eta))
    n_breaches = sum(c.breaches.size for c in comps.values())
    return BreachReport(
        threshold=threshold,
        horizon_s=horizon_s,
        episodes=n_episodes,
        true_episodes=n_true,
        censored_episodes=n_censored,
        precision=n_true / n_episodes if n_episodes else math.nan,
        breaches=n_breaches,
        recall={lead: predicted[lead] / n_breaches if n_breaches else math.nan for lead in leads_s},
        lead_times_s=tuple(lead_times),
        eta_abs_errors_s=tuple(eta_errors),
        false_alarms_per_component_day=(n_episodes - n_true) / days if days > 0 else math.nan,
        brier=calibration.brier,
        reliability=calibration.reliability,
    )


def _prepare(
    events: Iterable[RiskEvent],
    breaches: Iterable[Breach],
    spans: Mapping[str, tuple[int, int]],
    horizon_ms: int,
    n_bins: int,
    failing: Mapping[str, Sequence[tuple[int, int]]] | None = None,
) -> tuple[dict[str, _Component], float, _Calibration]:
    comps = _group(events, breaches, spans, failing)
    days = sum((end - start) / 86_400_000 for start, end in spans.values())
    risk, label = _labels(comps, horizon_ms)
    return (
        comps,
        days,
        _Calibration(brier_score(risk, label), reliability_curve(risk, label, n_bins)),
    )


def score_breaches(
    events: Iterable[RiskEvent],
    breaches: Iterable[Breach],
    spans: Mapping[str, tuple[int, int]],
    *,
    threshold: float,
    horizon_s: float,
    leads_s: Sequence[int] = DEFAULT_LEADS_S,
    n_bins: int = 10,
    failing: Mapping[str, Sequence[tuple[int, int]]] | None = None,
    pages: bool = True,
) -> BreachReport:
    """Score risk events against breaches at one alarm ``threshold`` (see the module doc);
    ``failing``: each component's FAIL intervals ``[start, end)``, for the Brier label;
    ``pages``: episodes from the events' alarm state where they carry one."""
    horizon_ms = _check(horizon_s, leads_s)
    comps, days, calibration = _prepare(events, breaches, spans, horizon_ms, n_bins, failing)
    return _score(comps, days, calibration, threshold, horizon_s, leads_s, pages)


def best_f1_threshold(
    events: Iterable[RiskEvent],
    breaches: Iterable[Breach],
    spans: Mapping[str, tuple[int, int]],
    *,
    horizon_s: float,
    lead_s: int = DEFAULT_LEADS_S[0],
    leads_s: Sequence[int] = DEFAULT_LEADS_S,
    n_bins: int = 10,
    max_candidates: int = 512,
    failing: Mapping[str, Sequence[tuple[int, int]]] | None = None,
) -> BreachReport:
    """The report at the threshold with the best F1 (episode precision, recall at ``lead_s``,
    which must be one of ``leads_s``); its ``threshold`` says which.

    Candidates are the distinct risk values, high to low; when there are more than
    ``max_candidates``, that many evenly spaced ones among them (approximate then). Ties go
    to the higher threshold. With no event at all, the report at threshold 1.0.
    """
    if lead_s not in leads_s:
        raise ValueError(f"lead_s {lead_s} must be one of leads_s {list(leads_s)}")
    horizon_ms = _check(horizon_s, leads_s)
    comps, days, calibration = _prepare(events, breaches, spans, horizon_ms, n_bins, failing)
    values = np.unique(np.concatenate([np.empty(0)] + [c.risk for c in comps.values()]))
    if values.size > max_candidates:
        values = values[np.linspace(0, values.size - 1, max_candidates).round().astype(np.int64)]
    best = (_score(comps, days, calibration, 1.0, horizon_s, leads_s, False)
            if values.size == 0 else None)
    for t in values[::-1].tolist():  # a threshold's own crossings: the alarm state has one
        rep = _score(comps, days, calibration, t, horizon_s, leads_s, False)
        if best is None or rep.f1(lead_s) > best.f1(lead_s):
            best = rep
    assert best is not None
    return best
