"""The first day's ceiling: the highest level a metric has held earlier today (s27, #15).

On a metric's first day its time-of-day profile (:class:`~processors.dayprofile.DayProfile`)
has not seen the hours ahead, so nothing caps a breach forecast: a trend line read off a
noise excursion on the afternoon's plateau (a database at 0.75 I/O since the morning ramp,
one window at WARN) points at FAIL within the horizon, and each such excursion is a false
alarm the first day only (breach round eighteen, s27). What the profile *has* seen then is
the day so far: the bins already visited. :func:`recent_ceiling` is their highest window
mean, a ``SLACK`` above it, where the window's mean is under it: a level the metric has
already held today, and left without a FAIL, is where the forecast stops (``season_recent``,
an option: :func:`processors.outlook._ceilings` caps an upward rule's forecast means there,
as at the profile's own ceiling). A rise to a level not yet seen today is above it and the
trend speaks as before. Only where the profile is blind (the first day, or a metric that
started today): from the second day on, the time-of-day envelope speaks. No state: the
profile's bins are read as they are.

>>> from processors.dayprofile import DayProfile
>>> p, hour = DayProfile(bins=24), 3_600_000
>>> for m in range(0, 14 * 60, 10):
...     p.learn_one(m * 60_000, 3.0 if m >= 8 * 60 else 1.0)
>>> recent_ceiling(p, 13 * hour, 3.1, 900)  # the afternoon's plateau: held since 8:00
3.15
>>> recent_ceiling(p, 13 * hour, 3.5, 900) is None  # above anything seen today
True
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from processors import NATIVE
from processors.dayprofile import SLACK, DayProfile

# the highest seen bin: compiled, a float loop over the bins (~3,000 instructions a call less
# than numpy's reduce); interpreted, the loop costs twice the reduce (s28): each where it is
# cheaper, the same float
_LOOP: Final = NATIVE is not None


def ceiling(profile: DayProfile, ts_ms: int, value: float, horizon_s: float,
            recent: bool) -> float | None:
    """``profile``'s ceiling (:meth:`~processors.dayprofile.DayProfile.ceiling`); with
    ``recent`` (``season_recent``), where it has none and is blind, :func:`recent_ceiling`."""
    top = profile.ceiling(ts_ms, value, horizon_s)
    if top is None and recent:
        return recent_ceiling(profile, ts_ms, value, horizon_s)
    return top


def recent_ceiling(profile: DayProfile, ts_ms: int, value: float,
                   horizon_s: float) -> float | None:
    """Where ``profile`` is blind over ``[ts_ms, ts_ms + horizon_s]``: the highest of its bins
    visited before (the folded ones; on a metric's first day, the day so far), ``SLACK``
    above it, if ``value`` is under that; else ``None``."""
    if not profile.blind(ts_ms, horizon_s):
        return None
    top = _highest(profile.hi.tolist()) if _LOOP else float(np.fmax.reduce(profile.hi))
    if not top > -math.inf:  # no bin was ever seen (the reduce: NaN; the loop: -inf)
        return None
    top += SLACK * abs(top)
    return top if value <= top else None


def _highest(bins: list[float]) -> float:
    """The largest seen bin (``-inf`` if none): ``np.fmax.reduce`` of the bins (NaN: never
    seen) as a float loop. Of a ``0.0`` and a ``-0.0`` either may come out, as from fmax: the
    caller's ``+ SLACK * abs(top)`` makes both ``0.0``."""
    top = -math.inf
    for v in bins:
        if v > top:  # False for NaN
            top = v
    return top
