"""A metric's time-of-day profile: the highest window mean seen in each part of the day.

A server's load often follows the clock: a morning ramp, a plateau through the working day, a
fall in the evening. A trend line fitted to the last few windows of a morning ramp points far
past where the ramp stops, so the ramp reads as growth towards a breach every morning; the
seasonal forecaster cannot help there, since its history (``256 x 8`` windows) holds less than
a day and the drift detector restarts it at each ramp. :class:`DayProfile` keeps, per bin of
the day (``bins`` of ``86400 / bins`` seconds of *event* time, UTC), an envelope of the
largest window mean seen in that bin: it rises at once to a higher day's maximum and falls
a fraction ``decay`` of the way to a lower one, per day. It is ``bins`` ``float32`` (192 bytes
at the default 48 bins of 30 minutes), bounded whatever the history.

:meth:`DayProfile.envelope` is the profile's ceiling over the next ``horizon_s`` (the bins
touching ``[ts - bin, ts + horizon_s + bin]``, one bin either side for a ramp that comes a
little early or late), or ``None`` when any of them has not been seen on an earlier visit
(the first day, or a metric that started today): then nothing changes. Where a window's
mean is under that ceiling, the ramp under way is one the metric makes at this time of day,
and :mod:`processors.outlook` caps the breach estimate's forecast at the ceiling instead of
extrapolating the trend line past it; a value above everything seen at this time of day is
not explained and the trend speaks as before.

>>> p = DayProfile(bins=24)
>>> day, hour = 86_400_000, 3_600_000
>>> for d in range(2):
...     for m in range(0, 24 * 60, 10):
...         t = d * day + m * 60_000
...         p.learn_one(t, 3.0 if 8 * hour <= t % day < 18 * hour else 1.0)
>>> p.envelope(2 * day + 7 * hour, 900), p.envelope(2 * day + 2 * hour, 900)
(3.0, 1.0)
>>> DayProfile().envelope(0, 900) is None  # nothing seen yet
True
"""

from __future__ import annotations

import math

import numpy as np

from processors.nativeattr import mypyc_attr

DAY_MS = 86_400_000
# a window mean up to 5 % over its time-of-day envelope is still the day's usual shape (the
# envelope is earlier days' maximum, and in float32); set a priori, not on labels
SLACK = 0.05
# where the profile has never seen a bin of the horizon (the first day), nothing says
# whether the rise a breach forecast extrapolates from the window's mean goes on or stops
# there: with BLIND < 1 it goes on with that probability, and the breach probability is the
# two-way mixture's (:func:`processors.outlook.forecast_windows`; the crossing and its ETA
# stay the forecast's). 1, the default, turns it off: at 0.5 it gained precision on the
# simulator but raised violation minutes in the closed loop (docs/modelling.md, breach
# round seven), so it is an option, not the default
BLIND = 1.0
# with BLIND < 1: the mixture's probability is the alarm's only (s20, breach round eleven):
# the breach estimates keep the forecaster's probability (the ``breach`` record, the metric
# states, the forecast records) and carry the mixture's as ``BreachEstimate.alarm``, which
# only the alarm's ``breach`` evidence reads; the risk the allocators act on (``act``) and
# the one the model learns from are the forecaster's. False: round seven's form
BLIND_ALARM = False


@mypyc_attr(serializable=True)
class DayProfile:
    """The upper envelope of a metric's window means by time of day (see the module doc)."""

    __slots__ = ("bins", "decay", "hi", "cur", "cur_max", "_memo")

    def __init__(self, bins: int = 48, decay: float = 0.3) -> None:
        if bins < 1 or DAY_MS % bins or not 0.0 < decay <= 1.0:
            raise ValueError("DayProfile: bins must divide a day in milliseconds, 0 < decay <= 1")
        self.bins = bins
        self.decay = decay
        self.hi = np.full(bins, np.nan, dtype=np.float32)  # NaN: never seen
        self.cur = -1  # the bin being visited: its index in the whole timeline (day * bins + b)
        self.cur_max = -math.inf
        self._memo: tuple[int, int, float | None] | None = None

    @property
    def bin_ms(self) -> int:
        return DAY_MS // self.bins

    def learn_one(self, ts_ms: int, value: float) -> None:
        """Add one window mean at event time ``ts_ms`` (in order; earlier ones are ignored)."""
        if not value - value == 0.0:  # not finite (native compiled, s28)
            return None
        at = ts_ms // self.bin_ms
        if at < self.cur:
            return None
        if at != self.cur:
            self._fold()
            self.cur, self.cur_max = at, value
        elif value > self.cur_max:
            self.cur_max = value
        return None

    def _fold(self) -> None:
        """The bin visit that ends goes into the envelope."""
        if self.cur < 0 or not math.isfinite(self.cur_max):
            return None
        b = self.cur % self.bins
        old = float(self.hi[b])
        top = float(np.float32(max(-3e38, min(3e38, self.cur_max))))
        self.hi[b] = top if math.isnan(old) or top >= old else old + self.decay * (top - old)
        self._memo = None
        return None

    def envelope(self, ts_ms: int, horizon_s: float) -> float | None:
        """The ceiling over ``[ts_ms, ts_ms + horizon_s]``, a bin of slack either side, from
        earlier visits only; ``None`` if a bin there was never seen before."""
        w = self.bin_ms
        first = ts_ms // w - 1
        last = (ts_ms + int(horizon_s * 1000)) // w + 1
        if last - first + 1 >= self.bins:  # the whole day: no time-of-day information
            return None
        memo: tuple[int, int, float | None] | None = getattr(self, "_memo", None)
        if memo is not None and memo[0] == first and memo[1] == last:
            return memo[2]  # the same bins, no fold since: the same answer
        hi, bins = self.hi, self.bins
        top, env = -math.inf, None  # the few bins one by one as floats (numpy's calls: ~8x, #14)
        for b in range(first, last + 1):
            v = hi.item(b % bins)
            if v != v:  # NaN: never seen
                break
            top = v if v > top else top
        else:
            env = top
        self._memo = (first, last, env)  # not checkpointed (``stateschema``: transient)
        return env

    def blind(self, ts_ms: int, horizon_s: float) -> bool:
        """Whether a bin of ``[ts_ms, ts_ms + horizon_s]`` (a bin either side) was never
        seen on an earlier visit: the profile cannot say how far a ramp goes there."""
        first = ts_ms // self.bin_ms - 1
        last = (ts_ms + int(horizon_s * 1000)) // self.bin_ms + 1
        return last - first + 1 < self.bins and self.envelope(ts_ms, horizon_s) is None

    def ceiling(self, ts_ms: int, value: float, horizon_s: float) -> float | None:
        """The envelope over the horizon, ``SLACK`` above it, when ``value`` is under that
        ceiling (the metric is where it usually is at this time of day); else ``None``."""
        env = self.envelope(ts_ms, horizon_s)
        if env is None:
            return None
        top = env + SLACK * abs(env)
        return top if value <= top else None
