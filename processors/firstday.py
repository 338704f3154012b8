"""A breach forecast where the metric's time-of-day profile is blind (its first day).

From its second day a metric's :class:`~processors.dayprofile.DayProfile` caps a breach
forecast at the envelope (:func:`processors.outlook._ceilings`); on the first day it has not
seen the hours ahead. Two readings of such a forecast, both the alarm's or the forecaster's
probability by :func:`processors.outlook.forecast_windows`:

- round seven's two-way mixture (``dayprofile.BLIND`` < 1, an option): the rise the forecast
  extrapolates from the window's mean goes on with probability ``BLIND`` or stops there (with
  ``dayprofile.BLIND_ALARM``, round eleven, the alarm's probability only);
- ``season_alarm`` (s27, issue #15, breach round nineteen): the day so far's ceiling
  (:func:`processors.dayrecent.recent_ceiling`, the highest window mean seen today + the
  profile's 5 % slack) caps an upward rule's forecast means, for the ALARM's probability only
  (``BreachEstimate.alarm``): the estimates, records, learning, patterns and ``act`` stay the
  forecaster's. ``season_recent`` caps the forecaster's own, which moved the learner, the
  patterns (``growth`` relabelled) and the children's context, and failed held out (round
  eighteen). No state, no parameter chosen on labels.

:func:`levels` names each blind item's level; :func:`rows` (arrays) and :func:`points` (a
point list) read the forecasts with it, element by element alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from processors import dayprofile, dayrecent
from processors.features import MetricFeatures
from processors.forecast import ForecastPoint
from processors.health import Rule
from processors.metricoutlook import MetricOutlook

Item = tuple[str, MetricFeatures, MetricOutlook, Sequence[Rule]]  # as processors.outlook's


def levels(items: Sequence[Item], origins: Sequence[int], horizon_s: int,
           alarm: bool) -> dict[int, float]:
    """Per blind item (a profile that has never seen a bin of the horizon): with ``alarm``
    (``season_alarm``) the day so far's ceiling, where the window mean is under it and every
    rule of the item is upward; else, with ``BLIND`` < 1, its window mean (the mixture's)."""
    if alarm:
        out: dict[int, float] = {}
        for i, (_, f, o, rules) in enumerate(items):
            if o.profile is None or any(r.sign <= 0 for r in rules):
                continue
            top = dayrecent.recent_ceiling(o.profile, origins[i], f.mean, horizon_s)
            if top is not None:
                out[i] = top
        return out
    if dayprofile.BLIND >= 1.0:
        return {}
    return {i: f.mean for i, (_, f, o, _) in enumerate(items)
            if o.profile is not None and o.profile.blind(origins[i], horizon_s)}


def rows(m: np.ndarray, s: np.ndarray, at: list[float], alarm: bool
         ) -> tuple[np.ndarray, np.ndarray]:
    """Rows' forecast means and spreads, those with a level ``at`` (NaN: none) as
    :func:`points` makes them: capped there (``alarm``) or the two-way mixture's."""
    level = np.asarray(at, dtype=np.float64)[:, None]
    has = ~np.isnan(level)
    if alarm:
        return np.where(has, np.minimum(m, level), m), s
    b = dayprofile.BLIND
    level = np.where(has, level, 0.0)
    rise = m - level
    return (np.where(has, level + b * rise, m),
            np.where(has, np.sqrt(s * s + (b * (1.0 - b)) * (rise * rise)), s))


def points(pts: list[ForecastPoint], level: float | None, alarm: bool
           ) -> list[ForecastPoint]:
    """``pts`` as a blind item's: with ``alarm`` their means capped at ``level`` (the day so
    far's ceiling); else the rise each forecasts from ``level`` (the window mean) goes on
    with probability ``BLIND`` or stops, so the mean is ``level + BLIND * rise`` and the
    spread widens by ``rise * sqrt(BLIND (1 - BLIND))``."""
    if level is None:
        return pts
    if alarm:
        return [p._replace(mean=min(p.mean, level)) for p in pts]
    b = dayprofile.BLIND
    return [p._replace(mean=level + b * (p.mean - level), std=math.sqrt(
        p.std * p.std + (b * (1.0 - b)) * ((p.mean - level) * (p.mean - level)))) for p in pts]
