"""The forecasters' trend refit for many series at once: the next batch stage's kernel (#14).

:func:`processors.trendline.fit_trend` fits the last ~10 window means of one metric of one
component, in plain Python; a worker refits one per rule metric per closed window.
:func:`fit_trends` fits many series of the same length (rows) with numpy, column by column:
every sum is accumulated left to right over the points, as Python's ``sum`` of floats does
(3.11: no compensation), and every square is Python's ``x ** 2`` (C ``pow``; ``x * x`` where
that is provably the same: see :func:`_squares`), so each row's fit is ``fit_trend``'s bit
for bit — including ``None`` where it gives ``None`` (fewer than 3 points, no time spread, an
overflow, a non-finite result). ``tests/unit/test_batch_trend.py`` checks it. NOT wired: the
refit runs inside the outlook (``processors/metricoutlook.py``, ``outlook.py``), which must
first take a poll's windows in rounds (docs/throughput.md "Design").

>>> from processors.trendline import fit_trend
>>> ts = [[0, 60_000, 120_000, 180_000], [0, 60_000, 120_000, 180_000]]
>>> ys = [[1.0, 2.0, 3.0, 4.5], [5.0, 5.0, 5.0, 5.0]]
>>> fit_trends(ts, ys) == [fit_trend(t, y) for t, y in zip(ts, ys)]
True
"""

from __future__ import annotations

import math
import os
import sys
from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from processors.trendline import TrendFit

__all__ = ["fit_trends", "minute_rounds"]

# each field's slot setter, in the constructor's order (:func:`_fits`)
_SETTERS = tuple(vars(TrendFit)[f].__set__ for f in TrendFit.__dataclass_fields__)
# Python 3.12 compensates float sums (Neumaier); this kernel reproduces the plain sums of 3.11
_PLAIN_SUM = sys.version_info < (3, 12)
_SPLIT = 134217729.0  # 2**27 + 1
_SURE = 0.4  # x * x within this share of a gap from the exact square: pow's too (_squares)
_TINY = 2.0 ** -400  # smaller: Dekker's error could underflow (and pow's result too): pow


def _glibc_pow() -> bool:
    """Whether C ``pow`` is glibc's of 2.28 or later (within 0.55 ULP: :func:`_squares`)."""
    try:
        name, _, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").partition(" ")
        major, minor = (int(v) for v in version.split(".")[:2])
    except (ValueError, OSError, AttributeError):
        return False
    return name == "glibc" and (major, minor) >= (2, 28)


_POW_BOUND = _glibc_pow()


def _sum_cols(a: np.ndarray) -> np.ndarray:
    """Each row summed left to right (``sum(row)`` of Python floats, which starts from the
    int 0: ``0 + -0.0`` is ``0.0``, hence the ``+ 0.0``)."""
    acc = a[:, 0] + 0.0
    for j in range(1, a.shape[1]):
        acc += a[:, j]
    return acc


def _squares(a: np.ndarray) -> np.ndarray:
    """``x ** 2`` of every element as Python computes it: C ``pow``, which differs from
    ``x * x`` (and from numpy's ``power`` on floats) in the last bit for ~0.1 % of doubles.
    ``x * x`` is the square rounded to nearest; where it lies within 0.4 of a gap between
    doubles from the exact square (Dekker's exact error, below), every other double lies
    0.6 gaps away or more, so a ``pow`` within 0.55 ULP gives ``x * x`` too (glibc's since
    2.28: 0.52-0.54 by its own analysis; s30). The rest (~20 %: near a rounding midpoint, where
    ``pow`` need not round to even, tiny values, overflows, non-finite values) and
    every element on another C library: Python's own ``**`` (:func:`_pow_squares`)."""
    if not _POW_BOUND:
        return _pow_squares(a)
    with np.errstate(all="ignore"):
        p: np.ndarray = a * a
        c = _SPLIT * a  # Veltkamp's split: hi, lo of 26 bits each, hi + lo == a exactly
        hi = c - (c - a)
        lo = a - hi
        err = (hi * hi - p + 2.0 * hi * lo) + lo * lo  # x**2 - p exactly (finite, |a| >= _TINY)
        gap = np.spacing(np.nextafter(p, 0.0))  # the smaller gap beside p (a power of two: below)
        sure = ((np.abs(err) <= _SURE * gap) & (np.abs(a) >= _TINY)) | (a == 0.0)
    if not sure.all():
        rest = ~sure
        p[rest] = _pow_squares(a[rest])
    return p


def _pow_squares(a: np.ndarray) -> np.ndarray:
    """Python's ``**`` of every element: numpy's ``power`` on an array of objects calls it
    for each (s25: ~20 % cheaper than ``map(math.pow, ...)``, interpreted or compiled). An
    overflow gives inf (Python raises, and fit_trend returns None: so does the caller, on the
    non-finite sum)."""
    try:
        out: np.ndarray = np.power(a.astype(object), 2.0).astype(np.float64)
    except OverflowError:
        out = np.asarray([_pow2(x) for x in a.ravel().tolist()], dtype=np.float64)
    return out.reshape(a.shape)


def _pow2(x: float) -> float:
    try:
        return x ** 2
    except OverflowError:
        return math.inf


def _matrix(rows: Sequence[Sequence[Any]], code: str, dtype: type) -> np.ndarray:
    """The rows as one array: a forecaster's rows (``array`` of ``code``, all of one length)
    by one copy of their buffers, anything else by numpy's conversion."""
    if (all(type(r) is array and r.typecode == code for r in rows)
            and len({len(r) for r in rows}) == 1 and len(rows[0]) > 0):
        got: np.ndarray = np.frombuffer(b"".join(rows), dtype=dtype)  # type: ignore[arg-type]
        return got.reshape(len(rows), -1)
    return np.asarray(rows, dtype=dtype)


def fit_trends(
    ts_ms: Sequence[Sequence[int]], values: Sequence[Sequence[float]]
) -> list[TrendFit | None]:
    """``[fit_trend(t, v) for t, v in zip(ts_ms, values)]``, rows of equal length, at once."""
    if not _PLAIN_SUM:  # the sums would differ in their last bits: stay exact, per row
        from processors.trendline import fit_trend

        return [fit_trend(t, v) for t, v in zip(ts_ms, values, strict=True)]
    if not ts_ms:
        return []
    ts = _matrix(ts_ms, "q", np.int64)
    y = _matrix(values, "d", np.float64)
    n = ts.shape[1]
    if n < 3 or y.shape != ts.shape:
        return [None] * len(ts)
    with np.errstate(all="ignore"):
        t = (ts - ts[:, -1:]).astype(np.float64) / 1000.0
        tm = _sum_cols(t) / n
        tc = t - tm[:, None]
        sxx = _sum_cols(tc * tc)
        ym = _sum_cols(y) / n
        slope = _sum_cols(tc * (y - ym[:, None])) / sxx
        intercept = ym - slope * tm
        resid = (y - intercept[:, None]) - slope[:, None] * t
        sq = _squares(np.concatenate((resid, y - ym[:, None])))  # one call: half the overhead
        sse = _sum_cols(sq[:len(ts)])
        sst = _sum_cols(sq[len(ts):])
        r2 = np.where(sst > 0, 1.0 - sse / sst, 0.0)
        resid_std = np.sqrt(sse / (n - 2))
    # fit_trend: None without time spread; None on an OverflowError (a square past the
    # largest double: here an infinite sse or sst) or on any non-finite result
    ok = (sxx > 0) & np.isfinite(sse) & np.isfinite(sst)
    ok &= np.isfinite(slope) & np.isfinite(intercept) & np.isfinite(r2) & np.isfinite(resid_std)
    cols = (slope.tolist(), intercept.tolist(), r2.tolist(), resid_std.tolist(), [n] * len(ts),
            tm.tolist(), sxx.tolist(), ym.tolist())
    return _fits(ok.tolist(), cols)


def _fits(ok: list[bool], cols: tuple[list[Any], ...]) -> list[TrendFit | None]:
    """``TrendFit(*row)`` of each row of ``cols`` (``None`` where not ``ok``), each field set
    by its slot's setter: the frozen dataclass's ``__init__`` sets them one by one through
    ``object.__setattr__``, ~1.8 times the cost (#14 s18); the same objects (equal, and
    ``tests/unit/test_batch_trend.py`` compares every field)."""
    out: list[TrendFit | None] = []
    new, (s0, s1, s2, s3, s4, s5, s6, s7) = TrendFit.__new__, _SETTERS
    for good, b, a, r, s, n, m, q, e in zip(ok, *cols, strict=True):
        if good:
            fit = new(TrendFit)
            s0(fit, b)
            s1(fit, a)
            s2(fit, r)
            s3(fit, s)
            s4(fit, n)
            s5(fit, m)
            s6(fit, q)
            s7(fit, e)
            out.append(fit)
        else:
            out.append(None)
    return out


def minute_rounds(samples: Iterable[Mapping[str, Any]], points: int = 10
                  ) -> list[tuple[list[list[int]], list[list[float]]]]:
    """The series a trend forecaster refits on, as rounds for :func:`fit_trends`: at every
    minute, the last ``points`` minute means of every metric of every component that has
    that many (times, values)."""
    sums: dict[tuple[int, str, str], list[float]] = {}
    for s in samples:
        for m, v in s["metrics"].items():
            sums.setdefault((s["ts"] // 60_000 * 60_000, s["component"], m), []).append(v)
    last: dict[tuple[str, str], list[tuple[int, float]]] = {}
    rounds: list[tuple[list[list[int]], list[list[float]]]] = []
    for minute in sorted({k[0] for k in sums}):
        ts, ys = [], []
        for (start, c, m), vs in sums.items():
            if start == minute:
                pts = last.setdefault((c, m), [])
                pts[:] = [*pts[-(points - 1):], (start, sum(vs) / len(vs))]
                if len(pts) == points:
                    ts.append([t for t, _ in pts])
                    ys.append([y for _, y in pts])
        if ts:
            rounds.append((ts, ys))
    return rounds
