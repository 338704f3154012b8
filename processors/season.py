"""Season lengths found from the data: a ring of recent values and its autocorrelation.

:class:`SeasonalHistory` keeps the last ``capacity`` block means of a series (``block``
values each; ``block=1`` keeps the values themselves) as ``float32`` and, every ``recheck``
blocks, re-estimates the season length with :func:`detect_period`: the lag of the highest
local maximum of the autocorrelation, if it reaches ``min_acf``. The anomaly detector uses it
at ``block=1`` (a seasonal-naive residual); the forecaster at a coarser block, so that a
daily season of one-minute windows fits in a few kilobytes.

>>> h = SeasonalHistory(capacity=256, recheck=32)
>>> for i in range(256):
...     _ = h.push(float(i % 24 < 6))
>>> h.period, h.ago(24) == h.ago(48)
(24, True)
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from processors.nativeattr import mypyc_attr
from processors.sharedparams import pickled, shared

_F32_MAX = float(np.finfo(np.float32).max)


def detect_period(values: np.ndarray, min_lag: int = 4, min_acf: float = 0.5) -> int | None:
    """The season length of ``values``: the lag of the highest local maximum of their
    autocorrelation in ``[min_lag, len // 2)`` after it first drops below zero (so that the
    slow decay of a trend or of a season longer than the history is not taken for a peak),
    or ``None`` when that maximum is below ``min_acf``."""
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n < 2 * min_lag + 2:
        return None
    x = x - x.mean()
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[: n // 2 + 1]
    if not ac[0] > 0:
        return None
    ac = ac / ac[0]
    lags = np.arange(max(min_lag, 1), n // 2)
    if lags.size == 0:
        return None
    negative = np.flatnonzero(ac[: n // 2] < 0.0)
    if negative.size == 0:
        return None
    peak = (ac[lags] > ac[lags - 1]) & (ac[lags] >= ac[lags + 1]) & (lags > negative[0])
    if not peak.any():
        return None
    cand = lags[peak]
    best = int(cand[int(np.argmax(ac[cand]))])
    return best if ac[best] >= min_acf else None


class HistoryParams(NamedTuple):
    """A :class:`SeasonalHistory`'s constant parameters, one object per configuration (#14:
    :mod:`processors.sharedparams`)."""

    capacity: int = 2048
    block: int = 1
    recheck: int = 128
    min_lag: int = 4
    min_acf: float = 0.5
    min_points: int = 64


@mypyc_attr(serializable=True)
class SeasonalHistory:
    """The last ``capacity`` block means of a series and its season length, in blocks."""

    __slots__ = ("p", "buf", "n", "period", "changes", "_acc", "_k")
    p: HistoryParams

    def __init__(
        self,
        capacity: int = 2048,
        block: int = 1,
        recheck: int = 128,
        min_lag: int = 4,
        min_acf: float = 0.5,
        min_points: int = 64,
    ) -> None:
        self.p = shared(HistoryParams(capacity, block, recheck, min_lag, min_acf, min_points))
        self.buf = np.zeros(capacity, dtype=np.float32)
        self.n = 0  # blocks pushed so far
        self.period: int | None = None
        self.changes = 0  # how often the period changed (a consumer resets what depends on it)
        self._acc = 0.0
        self._k = 0

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        return pickled(self)  # the parameters as fields, as format 2 wrote them

    def __len__(self) -> int:
        return min(self.n, self.p.capacity)

    def push(self, x: float) -> bool:
        """Add one value; ``True`` when it completed a block."""
        if not x - x == 0.0:  # not finite: inf - inf and nan give nan (native compiled, s28)
            return False
        p = self.p
        self._acc += x
        self._k += 1
        if self._k < p.block:
            return False
        mean = self._acc / self._k
        self.buf[self.n % p.capacity] = max(-_F32_MAX, min(_F32_MAX, mean))
        self.n += 1
        self._acc, self._k = 0.0, 0
        if self.n >= p.min_points and self.n % p.recheck == 0:
            found = detect_period(self.recent(len(self)), p.min_lag, p.min_acf)
            if found != self.period:
                self.period = found
                self.changes += 1
        return True

    def recent(self, k: int) -> np.ndarray:
        """The last ``k`` block means, oldest first (fewer if fewer are held)."""
        k = min(k, len(self))
        idx = (np.arange(self.n - k, self.n)) % self.p.capacity
        return self.buf[idx]

    def ago(self, lag: int) -> float:
        """The block mean ``lag`` blocks back (``1`` = the latest); NaN when not held."""
        if not 1 <= lag <= len(self):
            return math.nan
        return float(self.buf[(self.n - lag) % self.p.capacity])

    def mean_ago(self, lag: int, k: int) -> float:
        """Mean of the ``k`` block means ending ``lag`` blocks back (``lag=1``: the latest)."""
        if k <= 0 or lag < 1 or lag + k - 1 > len(self):
            return math.nan
        idx = (np.arange(self.n - lag - k + 1, self.n - lag + 1)) % self.p.capacity
        return float(self.buf[idx].astype(np.float64).sum() / k)

    # the parameters, read from ``p`` and set by replacing it with the shared copy
    # (processors.sharedparams; written out, not added by ``expose``: a mypyc class, s22)
    @property
    def capacity(self) -> int:
        return self.p.capacity

    @capacity.setter
    def capacity(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else HistoryParams()
        self.p = shared(base._replace(capacity=value))

    @property
    def block(self) -> int:
        return self.p.block

    @block.setter
    def block(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else HistoryParams()
        self.p = shared(base._replace(block=value))

    @property
    def recheck(self) -> int:
        return self.p.recheck

    @recheck.setter
    def recheck(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else HistoryParams()
        self.p = shared(base._replace(recheck=value))

    @property
    def min_lag(self) -> int:
        return self.p.min_lag

    @min_lag.setter
    def min_lag(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else HistoryParams()
        self.p = shared(base._replace(min_lag=value))

    @property
    def min_acf(self) -> float:
        return self.p.min_acf

    @min_acf.setter
    def min_acf(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else HistoryParams()
        self.p = shared(base._replace(min_acf=value))

    @property
    def min_points(self) -> int:
        return self.p.min_points

    @min_points.setter
    def min_points(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else HistoryParams()
        self.p = shared(base._replace(min_points=value))
