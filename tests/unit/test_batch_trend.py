"""The batch trend refit gives ``fit_trend``'s fits, bit for bit."""

from __future__ import annotations

import math
import platform
import random

import numpy as np

from processors.batch.trend import _POW_BOUND, _pow2, _squares, fit_trends, minute_rounds
from processors.dayrecent import _highest
from processors.trendline import fit_trend, line_at, line_point
from streams.sim.examples import fleet_samples


def _rows(rnd: random.Random, n: int, rows: int) -> tuple[list[list[int]], list[list[float]]]:
    ts, ys = [], []
    for r in range(rows):
        t0 = rnd.randrange(1_600_000_000_000, 1_800_000_000_000)
        stamps = sorted(rnd.sample(range(0, 3_600_000, 1_000), n))
        kind = r % 6
        if kind == 0:
            v = [5.0] * n  # flat: slope 0, r2 0
        elif kind == 1:
            v = [rnd.choice((1e155, -1e155, 1e200)) * rnd.random() for _ in range(n)]  # overflow
        elif kind == 2:
            stamps = [0] * n  # no time spread
            v = [rnd.gauss(0, 1) for _ in range(n)]
        else:
            scale = 10 ** rnd.uniform(-6, 6)
            v = [scale * (rnd.gauss(50, 20) + 0.3 * i) for i in range(n)]
        ts.append([t0 + s for s in stamps])
        ys.append(v)
    return ts, ys


def test_random_series_bit_for_bit() -> None:
    rnd = random.Random(1)
    for n in range(1, 13):
        ts, ys = _rows(rnd, n, 120)
        want = [fit_trend(t, y) for t, y in zip(ts, ys, strict=True)]
        assert repr(fit_trends(ts, ys)) == repr(want)
        if n >= 4:
            assert sum(w is not None for w in want) > 40 and None in want


def test_bench_window_means_bit_for_bit() -> None:
    """The series the forecasters refit on the bench data: at every minute, the last 10
    minute means of every metric of every component. (With ``x * x`` for the squares, 21 of
    these 19,200 fits differed from fit_trend in the last bit of r2 or resid_std.)"""
    fits = 0
    for ts, ys in minute_rounds(fleet_samples(12_000)):
        got = fit_trends(ts, ys)
        assert repr(got) == repr([fit_trend(t, y) for t, y in zip(ts, ys, strict=True)])
        fits += len(got)
    assert fits > 10_000


def test_squares_are_pythons() -> None:
    rnd = random.Random(2)
    xs = [rnd.gauss(0, 1) * 10 ** rnd.uniform(-8, 8) for _ in range(50_000)]
    assert any(x ** 2 != x * x for x in xs)  # the case this module exists for
    assert _squares(np.asarray(xs)).tolist() == [x ** 2 for x in xs]
    assert _squares(np.asarray([1e200, 2.0])).tolist() == [math.inf, 4.0]


def test_squares_at_rounding_midpoints() -> None:
    """Squares that lie on a rounding midpoint (odd 27-bit significands: glibc's ``pow`` does
    not round them to even, ``x * x`` does), the doubles beside them, and the edges: all
    Python's ``**`` (``x * x`` is taken only where it is provably ``pow``'s: ``_squares``)."""
    rnd = random.Random(4)
    xs: list[float] = []
    while len(xs) < 30_000:
        m = rnd.randrange(2 ** 26, 2 ** 27) | 1
        if (m * m).bit_length() == 54:
            x = math.ldexp(m, rnd.randrange(-80, 60)) * rnd.choice((1, -1))
            xs += [x, math.nextafter(x, 0.0), math.nextafter(x, math.inf)]
    xs += [0.0, -0.0, 5e-324, 1e-160, 1e-200, 2.0 ** -400, 2.0 ** 511, 1.3407807929942596e154,
           1e200, math.inf, -math.inf, math.nan, 1.0, -1.0, 2.0 ** 0.5, 3.0]
    assert sum(x ** 2 != x * x for x in xs[:30_000:3]) > 1_000  # midpoints: pow and x * x differ
    got = _squares(np.asarray(xs).reshape(-1, 2)).ravel().tolist()
    assert [repr(g) for g in got] == [repr(_pow2(x)) for x in xs]
    if platform.libc_ver()[0] == "glibc":
        assert _POW_BOUND  # the fast path is the one tested here


def _same(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b) or (a != a and b != b)


def test_line_point_is_line_at_on_floats() -> None:
    """The typed float form a forecaster's ``forecast()`` and ``expect()`` call (s28) gives
    ``line_at``'s floats, bit for bit, signs of zero, overflows and NaN included."""
    rnd = random.Random(3)
    for k in range(20_000):
        scale = 10 ** rnd.uniform(-8, 8)
        line = (rnd.gauss(0, 1) * scale, rnd.gauss(0, 1) * scale, abs(rnd.gauss(0, 1)) * scale,
                rnd.uniform(-600, 0), rnd.uniform(1e-3, 1e6), 1.0 / rnd.randrange(3, 12),
                rnd.uniform(-100, 100), rnd.choice((1.96, 2.0, 3.0)))
        x = rnd.choice((line[6] + rnd.choice((60, 300, 900)), rnd.gauss(0, 1) * 10 ** (k % 200),
                        -0.0, math.inf, -math.inf, math.nan, 1e200))
        got, want = line_point(line, x), line_at(line, x)
        assert all(_same(a, b) for a, b in zip(got, want, strict=True)), (line, x)


def test_highest_is_fmax_reduce() -> None:
    """The day profile's highest seen bin as a float loop (s28) is ``np.fmax.reduce`` of the
    float32 bins (NaN: never seen), ``-inf`` where fmax gives NaN (none seen)."""
    rnd = np.random.default_rng(4)
    for k in range(5_000):
        hi = (rnd.normal(size=48) * 10.0 ** rnd.uniform(-30, 30)).astype(np.float32)
        hi[rnd.random(48) < (k % 11) / 10] = np.nan
        if k % 97 == 0:
            hi[:] = np.nan
        if k % 13 == 0:
            hi[rnd.random(48) < 0.5] = rnd.choice([0.0, -0.0, 3e38, -3e38])
        want = float(np.fmax.reduce(hi))
        got = _highest(hi.tolist())
        assert got == want or (want != want and got == -math.inf), (hi, got, want)
