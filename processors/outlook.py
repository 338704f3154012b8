"""The outlook of every rule metric of one closed window, computed together.

For each metric, its :class:`~processors.metricoutlook.MetricOutlook` learns the window's mean; then
forecasts on one grid of horizons, the breach estimate of every rule, and the pattern each
metric shows come out of one pass over the window. Forecasters that are a line (the trend and
seasonal ones: :meth:`~processors.forecast.TrendForecaster.line`) are evaluated for all
metrics and horizons at once as numpy arrays (metrics x horizons), and every rule's breach
estimate likewise (rules x horizons), instead of a Python loop per metric, horizon and rule.

A line's forecast has one formula, :func:`processors.trendline.line_at`: this pass runs it
on arrays over all metrics (``line_rows``), a forecaster's own ``forecast()`` on floats
(which serves the rows this pass leaves out: another forecaster, a non-finite forecast).
The breach estimates
are :func:`~processors.risk.estimate_breach`'s arithmetic element by element (numpy's
``+ - * /`` and ``sqrt`` round as Python's), which stays the reference and serves the rules
with a zero spread. The risk events are the same to the last bit as before either was
vectorised (``tests/unit/test_outlook.py`` holds both to a scalar oracle).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from processors import dayprofile, dayrecent, firstday
from processors.features import MetricFeatures
from processors.forecast import Z_95, ForecastPoint, LineParams, TrendForecaster, line_rows
from processors.health import FAIL, Rule
from processors.metricoutlook import MetricOutlook
from processors.risk import (
    GROWTH_PATTERNS,
    BreachEstimate,
    estimate_breach,
    normal_cdf,
    pattern_of,
)
from processors.trendline import TrendFit

Item = tuple[str, MetricFeatures, MetricOutlook, Sequence[Rule]]


@dataclass(init=False)  # its own __init__: mypyc leaves a dataclass's interpreted (#14, s29)
class WindowOutlook:
    """What one window's rule metrics foretell."""

    forecasts: list[dict[str, Any]]  # Forecast records
    estimates: dict[str, list[BreachEstimate]]  # rule order
    patterns: dict[str, str]

    def __init__(self, forecasts: list[dict[str, Any]] | None = None,
                 estimates: dict[str, list[BreachEstimate]] | None = None,
                 patterns: dict[str, str] | None = None) -> None:
        self.forecasts = forecasts if forecasts is not None else []
        self.estimates = estimates if estimates is not None else {}
        self.patterns = patterns if patterns is not None else {}


Look = tuple[TrendFit | None, bool, list[tuple[bool, bool]]]


@dataclass(init=False)  # its own __init__ (#14, s29), as WindowOutlook
class Ahead:
    """Phase (a) of one window's outlook (:func:`forecast_windows`): what reads only the
    component's own outlooks, taken right after they learnt the window; the patterns (phase
    (b), :func:`window_patterns`) are named from it and the window's health statuses."""

    forecasts: list[dict[str, Any]]
    estimates: dict[str, list[BreachEstimate]]
    caps: dict[int, float]  # item -> its time-of-day ceiling
    # per item: its trend fit, whether it has a season, per rule (accelerating, fragmented)
    looks: list[Look]

    def __init__(self, forecasts: list[dict[str, Any]] | None = None,
                 estimates: dict[str, list[BreachEstimate]] | None = None,
                 caps: dict[int, float] | None = None, looks: list[Look] | None = None
                 ) -> None:
        self.forecasts = forecasts if forecasts is not None else []
        self.estimates = estimates if estimates is not None else {}
        self.caps = caps if caps is not None else {}
        self.looks = looks if looks is not None else []


@dataclass(init=False)  # its own __init__ (#14, s29), as WindowOutlook
class _Rows:
    """Forecasts of the metrics taken by the vectorised pass: one row each."""

    index: list[int]  # item index of each row
    mean: np.ndarray  # seasonal offset included
    std: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    def __init__(self, index: list[int], mean: np.ndarray, std: np.ndarray,
                 lower: np.ndarray, upper: np.ndarray) -> None:
        self.index, self.mean, self.std, self.lower, self.upper = index, mean, std, lower, upper


def observe_window(
    items: Sequence[Item],
    origin_ms: int,
    statuses: Mapping[str, int],
    grid_s: Sequence[int],
    horizons_s: Sequence[int],
    recent: bool = False,
    alarm: bool = False,
) -> WindowOutlook:
    """Learn each metric's window mean, then its forecast records at ``horizons_s``, a
    breach estimate per rule (forecasts on ``grid_s`` from ``origin_ms``) and its pattern:
    :func:`learn_window`, :func:`forecast_windows` and :func:`window_patterns` in turn (the
    batch core runs the first two for many components' windows at once)."""
    learn_window(items)
    ahead = forecast_windows([(items, origin_ms)], grid_s, horizons_s, recent, alarm)[0]
    return WindowOutlook(ahead.forecasts, ahead.estimates, window_patterns(items, ahead, statuses))


def learn_window(items: Sequence[Item]) -> None:
    """Each item's outlook learns its window mean."""
    for _, f, o, _ in items:
        o.learn_one(f.ts_mean_ms, f.mean)


def forecast_windows(
    windows: Sequence[tuple[Sequence[Item], int]],
    grid_s: Sequence[int],
    horizons_s: Sequence[int],
    recent: bool = False,
    alarm: bool = False,
) -> list[Ahead]:
    """Phase (a) of each window ``(items, origin_ms)``, its outlooks having learnt it: the
    forecast records at ``horizons_s``, each rule's breach estimate (on ``grid_s``), the
    ceilings and what the patterns read. The windows' line forecasts and estimates are
    computed as one set of rows (element by element: stacking windows changes no bit)."""
    flat = [it for items, _ in windows for it in items]
    origins = [origin for items, origin in windows for _ in items]
    cols = sorted({*grid_s, *horizons_s})
    col_of = {h: j for j, h in enumerate(cols)}
    rows, points = _forecast_rows(flat, origins, cols)
    row_of = {i: r for r, i in enumerate(rows.index)}
    js = [col_of[h] for h in horizons_s]  # one conversion to floats for every record
    records = np.stack([rows.mean[:, js], rows.lower[:, js], rows.upper[:, js]], axis=1).tolist()
    grid_cols = [col_of[h] for h in grid_s]
    caps = _ceilings(flat, origins, max(grid_s, default=0), recent)
    blind = firstday.levels(flat, origins, max(grid_s, default=0), alarm)  # season_alarm
    estimates = _estimates(flat, rows, row_of, points, list(grid_s), grid_cols, caps, blind,
                           alarm)
    out: list[Ahead] = []
    base = 0
    for items, _ in windows:
        a = Ahead()
        for n, (metric, _, o, rules) in enumerate(items):
            i = base + n
            r = row_of.get(i)
            if r is None:
                by_h = {p.horizon_s: p for p in points[i]}
                got: Iterable[tuple[int, float, float, float]] = [
                    (h, by_h[h].mean, by_h[h].lower, by_h[h].upper)
                    for h in horizons_s if h in by_h]
            else:  # the row's means, lowers and uppers, one per horizon (#14: no tuples)
                means, lowers, uppers = records[r]
                got = zip(horizons_s, means, lowers, uppers, strict=True)
            a.forecasts += [{"metric": metric, "horizon_s": h, "mean": mean, "lower": lower,
                             "upper": upper} for h, mean, lower, upper in got]
            a.estimates[metric] = [e for e in estimates[i] if e is not None]
            if i in caps:
                a.caps[n] = caps[i]
            fc = o.forecaster  # a line forecaster's trend() by a native call, compiled (s25)
            fit = fc.trend() if isinstance(fc, TrendForecaster) else fc.trend()
            a.looks.append((fit, o.period is not None,
                            [(o.accelerating(r.sign), o.fragmented(r.sign)) for r in rules]))
        base += len(items)
        out.append(a)
    return out


def window_patterns(
    items: Sequence[Item], ahead: Ahead, statuses: Mapping[str, int]
) -> dict[str, str]:
    """Phase (b): the pattern each metric shows (by :func:`processors.risk.pattern_of`), from
    its window's features, :class:`Ahead`'s looks and ceilings, and the health statuses."""
    out: dict[str, str] = {}
    for n, (metric, f, _, rules) in enumerate(items):
        fit, period, per_rule = ahead.looks[n]
        pattern = None
        for rule, (accelerating, fragmented) in zip(rules, per_rule, strict=True):
            failing = statuses.get(rule.name) == FAIL
            peak = f.max if rule.sign > 0 else f.min
            pattern = pattern or pattern_of(
                fit, rule.sign, f.growth, f.volatility, f.mean, peak, failing,
                accelerating=accelerating, periodic=period, fragmented=fragmented,
            )
        cap = ahead.caps.get(n)
        if (pattern in GROWTH_PATTERNS and cap is not None
                and all(cap < r.fail for r in rules if r.sign > 0)):
            pattern = "pattern:periodic"  # a ramp the metric makes at this time of day
        if pattern:
            out[metric] = pattern
    return out


def _ceilings(items: Sequence[Item], origins: Sequence[int], horizon_s: int,
              recent: bool = False) -> dict[int, float]:
    """Per item whose window mean is under its time-of-day envelope over the horizon
    (:meth:`~processors.dayprofile.DayProfile.ceiling`, a little above the envelope): that,
    the cap of its upward rules' breach forecasts; items without one are left out."""
    out: dict[int, float] = {}
    for i, (_, f, o, _) in enumerate(items):
        if o.profile is None:
            continue
        top = (o.profile.ceiling(origins[i], f.mean, horizon_s) if not recent  # season_recent
               else dayrecent.ceiling(o.profile, origins[i], f.mean, horizon_s, True))
        if top is not None:
            out[i] = top
    return out


def _forecast_rows(
    items: Sequence[Item], origins: Sequence[int], cols: list[int]
) -> tuple[_Rows, dict[int, list[ForecastPoint]]]:
    """Forecasts at ``cols`` from each item's origin: line forecasters as array rows, the
    rest as point lists."""
    index: list[int] = []
    params: list[LineParams] = []
    offsets: list[list[float] | None] = []
    points: dict[int, list[ForecastPoint]] = {}
    for i, (_, _, o, _) in enumerate(items):
        fc, origin_ms = o.forecaster, origins[i]
        line = fc.line(origin_ms) if isinstance(fc, TrendForecaster) else None
        if line is None:  # not warm yet (no points), or not a line: its own forecast
            points[i] = fc.forecast(cols, origin_ms=origin_ms)
            continue
        index.append(i)
        params.append(line)
        offsets.append(fc.offsets(cols, origin_ms) if isinstance(fc, TrendForecaster) else None)
    empty = np.zeros((0, len(cols)))
    if not index:
        return _Rows([], empty, empty, empty, empty), points
    mean, std, lower, upper = line_rows(params, cols)  # what each forecaster's forecast() runs
    with np.errstate(all="ignore"):
        ok = (np.isfinite(mean) & np.isfinite(std)).all(axis=1)
        if any(off is not None for off in offsets):
            shift = np.asarray([off if off is not None else [0.0] * len(cols)
                                for off in offsets])
            seasonal = np.asarray([off is not None for off in offsets])[:, None]
            mean = np.where(seasonal, mean + shift, mean)
            lower = np.where(seasonal, lower + shift, lower)
            upper = np.where(seasonal, upper + shift, upper)
            ok &= np.isfinite(mean).all(axis=1)
    if not ok.all():  # a row with a non-finite forecast: its forecast(), which drops points
        for r in np.flatnonzero(~ok).tolist():
            i = index[r]
            points[i] = items[i][2].forecaster.forecast(cols, origin_ms=origins[i])
        keep = np.flatnonzero(ok)
        index = [index[r] for r in keep.tolist()]
        mean, std, lower, upper = mean[keep], std[keep], lower[keep], upper[keep]
    return _Rows(index, mean, std, lower, upper), points


def _estimates(
    items: Sequence[Item],
    rows: _Rows,
    row_of: Mapping[int, int],
    points: Mapping[int, list[ForecastPoint]],
    grid: list[int],
    grid_cols: list[int],
    caps: Mapping[int, float],
    blind: Mapping[int, float],
    alarm: bool = False,  # season_alarm: the blind items' probability is the alarm's only
) -> dict[int, list[BreachEstimate | None]]:
    """Each rule's breach estimate (:func:`estimate_breach`), per item in rule order; upward
    forecasts capped at ``caps``; a ``blind`` item's as :mod:`processors.firstday` reads it."""
    out: dict[int, list[BreachEstimate | None]] = {}
    vec: list[tuple[int, int, Rule, float]] = []  # (item, slot, rule, volatility)
    gridset = set(grid)
    for i, (metric, f, _, rules) in enumerate(items):
        out[i] = [None] * len(rules)
        if i in row_of:
            vec += [(i, k, rule, f.volatility) for k, rule in enumerate(rules)]
            continue
        pts = [p for p in points.get(i, []) if p.horizon_s in gridset]
        out[i] = [_estimate(metric, r, pts, caps.get(i), blind.get(i), f.volatility, alarm)
                  for r in rules]
    if not vec or not grid:
        return out
    m, s = _grid_rows(rows, [row_of[i] for i, _, _, _ in vec], grid_cols, vec, caps)
    q = np.fromiter(chain.from_iterable((v, rule.fail, rule.sign) for _, _, rule, v in vec),
                    np.float64, 3 * len(vec)).reshape(len(vec), 3)  # flat: no shape to find
    vol, thr, sign = q[:, 0:1], q[:, 1:2], q[:, 2:3]
    edge, u = _edges(m, s, vol, thr, sign)
    mix = None
    if blind:  # the probability of the mixture; the crossing and its ETA: the forecast's
        mix = _edges(*firstday.rows(m, s, [blind.get(i, np.nan) for i, _, _, _ in vec], alarm),
                     vol, thr, sign)[1]
        u, mix = (u, mix) if dayprofile.BLIND_ALARM or alarm else (mix, None)
    positive: list[bool] = np.isfinite(u).all(axis=1).tolist()
    crossed = np.asarray(edge >= 0)
    first = crossed.argmax(axis=1).tolist()
    any_cross = np.asarray(crossed.any(axis=1)).tolist()
    u_max = u.max(axis=1).tolist()
    mix_max = mix.max(axis=1).tolist() if mix is not None else None
    for n, (i, k, rule, v) in enumerate(vec):
        if not positive[n]:  # a zero spread: the scalar code's own case
            pts = _points(rows, row_of[i], grid, grid_cols)
            out[i][k] = _estimate(items[i][0], rule, pts, caps.get(i), blind.get(i), v, alarm)
            continue
        if not any_cross[n]:
            continue
        prob = _gap_p(u_max[n])
        j = first[n]
        if j == 0:
            eta = float(grid[0])
        else:
            h0, e0, e1 = float(grid[j - 1]), float(edge[n, j - 1]), float(edge[n, j])
            eta = h0 + (grid[j] - h0) * (-e0) / (e1 - e0) if e1 > e0 else h0
        if np.isfinite(prob):
            out[i][k] = BreachEstimate(items[i][0], rule.fail, max(0.0, eta), prob,
                                       _alarm(mix_max, n, prob))
    return out


def _edges(m: np.ndarray, s: np.ndarray, vol: np.ndarray, thr: np.ndarray, sign: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """The bad edge's distance past the threshold and the standardised gap, per row and
    horizon (as :func:`estimate_breach`; ``u`` is not finite where the spread is 0)."""
    with np.errstate(all="ignore"):
        std = np.sqrt(s * s + vol * vol)
        gap = sign * (m - thr)
        u = np.where(std > 0, gap / std, np.nan)
        return gap + Z_95 * std, u


def _points(rows: _Rows, r: int, grid: list[int], grid_cols: list[int]) -> list[ForecastPoint]:
    return [
        ForecastPoint(h, float(rows.mean[r, j]), float(rows.lower[r, j]),
                      float(rows.upper[r, j]), float(rows.std[r, j]))
        for h, j in zip(grid, grid_cols, strict=True)
    ]


def _estimate(metric: str, rule: Rule, pts: list[ForecastPoint], cap: float | None,
              level: float | None, volatility: float, alarm: bool = False
              ) -> BreachEstimate | None:
    """:func:`estimate_breach` of one rule on ``pts`` (capped at ``cap``); for a blind item
    (``level``, :func:`processors.firstday.levels`) with the probability of
    :func:`processors.firstday.points` (``alarm``: the alarm's only)."""
    pts = _capped(pts, cap, rule.sign)
    e = estimate_breach(metric, rule.fail, rule.sign, pts, volatility)
    if e is None or level is None:
        return e
    w = estimate_breach(metric, rule.fail, rule.sign, firstday.points(pts, level, alarm),
                       volatility, z=1e9)
    p = w.probability if w else 0.0
    if dayprofile.BLIND_ALARM or alarm:  # the mixture's (the cap's) is the alarm's only
        return BreachEstimate(e.metric, e.threshold, e.eta_s, e.probability,
                              None if p == e.probability else p)
    return BreachEstimate(e.metric, e.threshold, e.eta_s, p)


def _alarm(mix_max: list[float] | None, n: int, prob: float) -> float | None:
    """The alarm's probability of row ``n`` (``dayprofile.BLIND_ALARM``: the mixture's
    largest standardised gap ``mix_max``), ``None`` where it is ``prob``."""
    if mix_max is None or not np.isfinite(mix_max[n]):
        return None
    p = _gap_p(mix_max[n])
    return None if p == prob else p


def _gap_p(u: float) -> float:
    """The probability of a largest standardised gap ``u`` (0 far below the edge)."""
    return normal_cdf(u) if u > -9.0 else 0.0


def _grid_rows(rows: _Rows, r_idx: list[int], grid_cols: list[int],
               vec: Sequence[tuple[int, int, Rule, float]], caps: Mapping[int, float]
               ) -> tuple[np.ndarray, np.ndarray]:
    """The forecast means and spreads on the grid of each (item, rule) in ``vec``, an
    upward rule's means capped at its item's ceiling."""
    m = rows.mean[r_idx][:, grid_cols]
    s = rows.std[r_idx][:, grid_cols]
    if caps:
        ceiling = [caps.get(i, np.inf) if rule.sign > 0 else np.inf for i, _, rule, _ in vec]
        m = np.minimum(m, np.asarray(ceiling)[:, None])
    return m, s


def _capped(pts: list[ForecastPoint], cap: float | None, sign: float) -> list[ForecastPoint]:
    """``pts`` with their means capped at ``cap`` (an upward rule's ceiling), if any."""
    if cap is None or sign <= 0:
        return pts
    return [p._replace(mean=min(p.mean, cap)) for p in pts]
