"""A least-squares line through a forecaster's recent points, and that line's forecast: the
maths every line forecaster of :mod:`processors.forecast` shares (re-exported there).

:func:`fit_trend` fits; :func:`line_at` is the one formula of a line's forecast, evaluated on
floats by a forecaster's own ``forecast()`` and on arrays by :func:`line_rows` (every metric
and horizon of a window at once, :mod:`processors.outlook`): the same operations in the same
order, so the same floats to the last bit (#10: one implementation, #14).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple

import numpy as np

from processors.nativeattr import mypyc_attr


@mypyc_attr(serializable=True)
@dataclass(frozen=True, slots=True)
class TrendFit:
    """A least-squares line ``value = intercept + slope * (t_s - t0_s)``, with its quality."""

    slope: float  # per second
    intercept: float  # value at the last point's time
    r2: float
    resid_std: float
    n: int
    t_mean_s: float = 0.0  # mean time of the points, seconds relative to the last one
    sxx: float = 0.0  # sum of squared time deviations: what prediction intervals need
    y_mean: float = 0.0


class Line(NamedTuple):
    """A linear forecast from an origin: at ``h`` seconds, ``x = offset + h``, mean ``a + b *
    x``, spread ``s * sqrt(1 + inv_n + (x - tm) ** 2 / sxx)``, interval mean -/+ ``z`` spread."""

    a: float
    b: float
    s: float
    tm: float
    sxx: float
    inv_n: float
    offset: float
    z: float


# A line's parameters as a plain tuple, in :class:`Line`'s order: what
# :meth:`~processors.forecast.TrendForecaster.line` gives (#14 s25: a NamedTuple made from
# compiled code runs its Python-level ``__new__``, ~2,500 instructions a line)
LineParams = tuple[float, float, float, float, float, float, float, float]


def line_at(line: Any, x: Any, sqrt: Any = math.sqrt, power: Any = None) -> tuple[Any, ...]:
    """``mean, std, lower, upper`` of a line's forecast at ``x`` seconds from its last point:
    the one formula of a line's forecast (#10), evaluated on floats (a forecaster's own
    :meth:`TrendForecaster.forecast`, cheap for the one or two horizons it is asked) or on
    arrays (:func:`line_rows`: every metric and horizon of a window at once); the same
    operations in the same order either way, so the same floats to the last bit."""
    a, b, s, tm, sxx, inv_n, _, z = line
    mean = a + b * x
    std = s * sqrt(1.0 + inv_n + (power or _pow)(x - tm, 2.0) / sxx)
    return mean, std, mean - z * std, mean + z * std


def line_point(line: LineParams, x: float) -> tuple[float, float, float, float]:
    """:func:`line_at` on floats (a forecaster's ``forecast()`` and ``expect()``), typed, so
    compiled it runs as native float arithmetic with no generic call (s28: ~4,000
    instructions a call less); the same operations in the same order, so the same floats
    (``math.pow`` is Python's ``**`` for an exponent of 2.0: C ``pow``, ``-d`` as ``d``).

    >>> line = (1.0, 0.5, 0.1, -5.0, 80.0, 0.1, 0.0, 2.0)
    >>> line_point(line, 3.0) == tuple(line_at(line, 3.0))
    True
    """
    a, b, s, tm, sxx, inv_n, _, z = line
    mean = a + b * x
    try:
        sq = math.pow(x - tm, 2.0)
    except OverflowError:  # as _pow
        sq = math.inf
    std = s * math.sqrt(1.0 + inv_n + sq / sxx)
    return mean, std, mean - z * std, mean + z * std


def _pow(d: float, e: float) -> float:
    try:
        return float(d**e)
    except OverflowError:  # as numpy's: not finite, so the horizon is left out
        return math.inf


def _array_pow(d: np.ndarray, e: float) -> np.ndarray:
    # an array exponent: numpy's ``d ** 2`` is ``d * d``, which differs from C's ``pow``
    # (Python's ``**``) in the last bit 0.1 % of the time
    out: np.ndarray = np.power(d, np.full(d.shape, e))
    return out


def line_rows(lines: Sequence[Sequence[float]], horizons_s: Sequence[int]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`line_at` for every line and horizon at once: ``mean, std, lower, upper``, each
    ``lines x horizons``.

    >>> m, s, lo, up = line_rows([Line(1.0, 0.5, 0.1, -5.0, 80.0, 0.1, 0.0, 2.0)], [0, 10])
    >>> m.tolist(), bool((lo < m).all() and (m < up).all())
    ([[1.0, 6.0]], True)
    """
    width = len(Line._fields)  # flattened first: numpy's conversion of a flat iterable of
    # floats costs ~60 % of its shape discovery on a list of tuples; the same floats (#14 s25)
    p = np.fromiter(chain.from_iterable(lines), np.float64, len(lines) * width)
    p = p.reshape(len(lines), width)
    cols = [p[:, k : k + 1] for k in range(p.shape[1])]
    with np.errstate(all="ignore"):
        x = cols[6] + np.asarray(horizons_s, dtype=np.float64)
        mean, std, lower, upper = line_at(cols, x, np.sqrt, _array_pow)
    return mean, std, lower, upper


@functools.lru_cache(maxsize=1024)
def _time_part(ts_ms: tuple[int, ...]) -> tuple[tuple[float, ...], float, tuple[float, ...],
                                                float]:
    """The half of a trend fit that depends on the times alone: every metric of a component
    shares its windows' times, so a window's fits compute it once (issue #14). The same
    arithmetic as before, in the same order, so the same floats.

    >>> _time_part((0, 10_000, 20_000))
    ((-20.0, -10.0, 0.0), -10.0, (-10.0, 0.0, 10.0), 200.0)
    """
    last = ts_ms[-1]
    # summed left to right: the same floats as a loop, at less cost
    t = tuple([(x - last) / 1000.0 for x in ts_ms])
    tm = sum(t) / len(t)
    tc = tuple([a - tm for a in t])
    return t, tm, tc, sum([a * a for a in tc])


def fit_trend(ts_ms: Sequence[int], values: Sequence[float]) -> TrendFit | None:
    """Least-squares trend of ``values`` over time; ``None`` with fewer than 3 distinct times.

    Plain Python: for the ten-odd points it sees, numpy's call overhead would dominate.
    """
    n = len(ts_ms)
    if n < 3 or n != len(values):
        return None
    t, tm, tc, sxx = _time_part(tuple(ts_ms))
    ym = sum(values) / n
    if not sxx > 0:
        return None
    try:
        slope = sum([a * (b - ym) for a, b in zip(tc, values, strict=True)]) / sxx
        intercept = ym - slope * tm
        sse = sum([(b - intercept - slope * a) ** 2 for a, b in zip(t, values, strict=True)])
        sst = sum([(b - ym) ** 2 for b in values])
    except OverflowError:
        return None
    r2 = 1.0 - sse / sst if sst > 0 else 0.0
    fit = TrendFit(slope, intercept, r2, math.sqrt(sse / (n - 2)), n, tm, sxx, ym)
    return fit if all(map(math.isfinite, (slope, intercept, r2, fit.resid_std))) else None
