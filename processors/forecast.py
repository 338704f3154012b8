"""Short-horizon forecasters of one metric's window means, behind one small seam.

A :class:`Forecaster` learns ``(ts_ms, value)`` points and forecasts the value ``h`` seconds
after an origin (by default its latest point) as a mean and a prediction interval. Three
implementations:

* :class:`TrendForecaster` (default) — least-squares line through the last ``k`` points; the
  interval is the textbook regression prediction interval (residual spread, widened by the
  distance from the data's centre), so it is honest about a short, noisy history.
* :class:`~processors.snarimax.SnarimaxForecaster` — River's ``time_series.SNARIMAX`` on a
  regular step (one window), its interval from the running spread of its one-step errors,
  widened with ``sqrt(steps)`` (in its own module).
* :class:`SeasonalTrendForecaster` — the trend line fitted to the *deseasonalised* points, plus
  the seasonal offset at the forecast time. The season is found from the data
  (:class:`~processors.season.SeasonalHistory`: autocorrelation of block means of the recent
  points); the offset of a time is its block's value one season back minus the mean over that
  season, interpolated between blocks. Without a season it is :class:`TrendForecaster`.

>>> f = TrendForecaster(k=10)
>>> for i in range(10):
...     f.learn_one(i * 60_000, 0.3 + 0.01 * i)
>>> p = f.forecast([600])[0]
>>> round(p.mean, 3), p.lower < p.mean < p.upper
(0.49, True)
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np

from processors.nativeattr import mypyc_attr
from processors.season import SeasonalHistory
from processors.sharedparams import shared
from processors.trendline import Line as Line
from processors.trendline import LineParams as LineParams
from processors.trendline import TrendFit as TrendFit
from processors.trendline import fit_trend as fit_trend
from processors.trendline import line_at as line_at
from processors.trendline import line_point
from processors.trendline import line_rows as line_rows
from processors.trendview import Z_95 as Z_95
from processors.trendview import SeasonalParams as SeasonalParams
from processors.trendview import TrendParams as TrendParams
from processors.trendview import TrendView


class ForecastPoint(NamedTuple):
    horizon_s: int
    mean: float
    lower: float
    upper: float
    std: float  # predictive standard deviation; the interval is mean -/+ z * std


class Forecaster(Protocol):
    """The seam: learn points in event-time order, forecast at horizons from an origin.

    ``trend`` describes the recent history as a line, whatever the model, so patterns
    ("linear growth") are named the same way under every forecaster.
    """

    def learn_one(self, ts_ms: int, value: float) -> None: ...

    def forecast(
        self, horizons_s: Sequence[int], origin_ms: int | None = None
    ) -> list[ForecastPoint]:
        """Finite forecasts at ``origin_ms + h`` for each ``h`` (``[]`` until warm)."""
        ...

    def trend(self) -> TrendFit | None:
        """The recent least-squares trend (for naming patterns), if there is one."""
        ...


def _interpolated(pos: Any, latest: int, floor: Any, blocks: Any) -> Any:
    """The block means around fractional block index ``pos`` (one season back), weighted by
    distance: the one formula of a seasonal offset, on floats or on arrays (``floor`` and
    ``blocks``, a lag's block mean, given for either)."""
    lo = floor(pos)
    frac = pos - lo
    out = 0.0 + (1.0 - frac) * blocks(latest - lo + 1)
    return out + frac * blocks(latest - lo)


_ARRAYS = {"ts_ms": "q", "values": "d", "raw": "d"}  # the forecasters' array fields


@mypyc_attr(serializable=True)
class TrendForecaster(TrendView):
    """Linear trend over the last ``k`` points.

    ``min_std_rel`` floors the residual spread at a fraction of the level (a perfectly straight
    history still leaves measurement noise), ``z`` sets the interval's width. The fit is
    refreshed on each point learnt, so forecasts are cheap.
    """

    __slots__ = ("ts_ms", "values", "_fit", "_s")

    def __init__(
        self,
        k: int = 10,
        min_points: int = 4,
        z: float = Z_95,
        min_std_abs: float = 1e-9,
        min_std_rel: float = 0.005,
    ) -> None:
        self.p = shared(TrendParams(k, max(3, min_points), z, min_std_abs, min_std_rel))
        # compact arrays, not lists of boxed numbers: ~200 bytes less per list (#14 memory)
        self.ts_ms: array[int] = array("q")
        self.values: array[float] = array("d")
        self._fit: TrendFit | None = None
        self._s = 0.0  # floored residual spread

    def learn_one(self, ts_ms: int, value: float, refit: bool = True) -> None:
        """Learn a point; ``refit=False`` leaves the line to the caller (:meth:`set_fit`)."""
        if not value - value == 0.0 or (self.ts_ms and ts_ms <= self.ts_ms[-1]):  # not finite
            return None
        self.ts_ms.append(int(ts_ms))
        self.values.append(float(value))
        if len(self.ts_ms) > self.p.k:
            del self.ts_ms[0], self.values[0]
        if refit:
            self._refit()
        return None

    def _refit(self) -> None:
        n = len(self.ts_ms)
        self.set_fit(fit_trend(self.ts_ms, self.values) if n >= self.p.min_points else None)

    def set_fit(self, fit: TrendFit | None) -> None:
        """The line a refit sets: ``fit_trend`` of the points (``None`` under ``min_points``);
        the batch core fits many forecasters' points at once (``processors.batch.outlook``)."""
        self._fit = fit
        if fit is not None:
            p = self.p
            self._s = max(fit.resid_std, p.min_std_abs, p.min_std_rel * abs(fit.y_mean))

    def trend(self) -> TrendFit | None:
        return self._fit

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with lists, as format 2 wrote them (``processors.legacy_state``)."""
        state = {n: getattr(self, n) for c in reversed(type(self).__mro__)
                 for n in c.__dict__.get("__slots__", ()) if hasattr(self, n)}
        state = {**state.pop("p")._asdict(), **state}  # the parameters as fields, as before
        for name in _ARRAYS:
            if name in state:
                state[name] = state[name].tolist()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, code in _ARRAYS.items():
            if name in state:
                state[name] = array(code, state[name])
        for name, value in state.items():
            setattr(self, name, value)

    def line(self, origin_ms: int | None = None) -> LineParams | None:
        """The fitted line's forecast parameters from ``origin_ms`` (``None`` until warm), a
        :class:`Line`'s fields as a plain tuple: what :meth:`forecast` computes per horizon,
        for computing many horizons at once."""
        fit = self._fit
        if fit is None:
            return None
        offset = 0.0 if origin_ms is None else (origin_ms - self.ts_ms[-1]) / 1000.0
        return (fit.intercept, fit.slope, self._s, fit.t_mean_s, fit.sxx, 1.0 / fit.n,
                offset, self.p.z)

    def offsets(self, horizons_s: Sequence[int], origin_ms: int | None = None
                ) -> list[float] | None:
        """The seasonal offset added at each horizon (``None``: no season)."""
        return None

    def forecast(
        self, horizons_s: Sequence[int], origin_ms: int | None = None
    ) -> list[ForecastPoint]:
        """:func:`line_at` at each horizon, seasonal offset added; a horizon whose mean or
        spread is not finite is left out."""
        line = self.line(origin_ms)
        if line is None:
            return []
        shift = self.offsets(horizons_s, origin_ms)
        out = []
        for j, h in enumerate(horizons_s):
            mean, std, lower, upper = line_point(line, line[6] + h)  # line[6]: its offset
            if mean - mean == 0.0 and std - std == 0.0:  # finite (native compiled, s28)
                if shift is not None:
                    d = shift[j]
                    mean, lower, upper = mean + d, lower + d, upper + d
                out.append(ForecastPoint(int(h), mean, lower, upper, std))
        return out

    def expect(self, h: int) -> tuple[float, float] | None:
        """The mean and spread of ``forecast([h])``'s point (``None`` where it has none):
        the drift test's one-step expectation, without the point's objects (#14 s25)."""
        line = self.line()
        if line is None:
            return None
        shift = self.offsets([h])
        mean, std, _, _ = line_point(line, line[6] + h)
        if not (mean - mean == 0.0 and std - std == 0.0):  # not finite (native, s28)
            return None
        return (mean if shift is None else mean + shift[0]), std


class SeasonalTrendForecaster(TrendForecaster):
    """A trend line on deseasonalised points plus the seasonal offset (see the module doc).

    Points are taken as one per ``step_s`` (gaps ignored); the history holds ``capacity``
    block means of ``block`` points, so seasons up to ``capacity * block / 2`` points long
    are found (at the defaults, 2048 one-minute windows: 34 hours).
    """

    __slots__ = ("history", "n", "raw", "_raw_fit", "_level_at")

    def __init__(
        self,
        step_s: int = 60,
        k: int = 10,
        block: int = 8,
        capacity: int = 256,
        min_acf: float = 0.5,
        min_points: int = 4,
        z: float = Z_95,
        min_std_abs: float = 1e-9,
        min_std_rel: float = 0.005,
    ) -> None:
        super().__init__(k=k, min_points=min_points, z=z, min_std_abs=min_std_abs,
                         min_std_rel=min_std_rel)  # by name: mypyc miscompiled **trend (s20)
        t = self.p
        self.p = shared(SeasonalParams(t.k, t.min_points, t.z, t.min_std_abs, t.min_std_rel,
                                       step_s, block, capacity, min_acf))
        self.history = SeasonalHistory(
            capacity, block=block, recheck=16, min_lag=2, min_acf=min_acf, min_points=32
        )
        self.n = 0  # points learnt
        self.raw: array[float] = array("d")  # the last k values as learnt (values: deseasonalised)
        self._raw_fit: TrendFit | None = None  # trend() of the points as learnt, once computed

    @property
    def period_points(self) -> int | None:
        """The season found, in points (windows), if any."""
        p = self.history.period
        return None if p is None else p * self.p.block

    def _level(self) -> float:
        """The mean over the last season held (0 without one)."""
        h, p = self.history, self.history.period
        if p is None or len(h) < p + 1:
            return 0.0
        key = (h.n, p)  # it changes only when a block completes or the season does
        cached = getattr(self, "_level_at", None)
        if cached is None or cached[0] != key:
            cached = self._level_at = (key, float(h.recent(p).astype(np.float64).sum() / p))
        return cached[1]

    def offsets_at(self, i: np.ndarray, level: float) -> np.ndarray:
        """The seasonal offset (see :meth:`offsets`) of each point index in ``i`` (floats),
        given the season's level: :func:`_interpolated` on arrays."""
        h, p = self.history, self.history.period
        if p is None or len(h) < p + 1:
            return np.zeros(len(i))
        pos = (i + 0.5) / self.p.block - 0.5 - p  # fractional block index, one season back
        held = len(h)
        out = _interpolated(pos, h.n - 1, np.floor, lambda lag: self._blocks(lag, held))
        diff: np.ndarray = out - level
        return diff

    def offset_at(self, i: float, level: float) -> float:
        """:meth:`offsets_at` of one point, on floats (cheaper for one or two points)."""
        h, p = self.history, self.history.period
        if p is None or len(h) < p + 1:
            return 0.0
        pos = (i + 0.5) / self.p.block - 0.5 - p
        held = len(h)
        out = _interpolated(pos, h.n - 1, math.floor, lambda lag: h.ago(max(1, min(held, lag))))
        return float(out - level)

    def _blocks(self, lag: np.ndarray, held: int) -> np.ndarray:
        """Block means ``lag`` blocks back, lags clipped to those held (as ``ago``)."""
        h = self.history
        idx = (h.n - np.clip(lag, 1, held).astype(np.int64)) % h.p.capacity
        out: np.ndarray = h.buf[idx].astype(np.float64)
        return out

    def offsets(self, horizons_s: Sequence[int], origin_ms: int | None = None
                ) -> list[float] | None:
        """The seasonal offset added at each horizon by :meth:`forecast` (``None`` without a
        season); of a fractional point index ``i``: its block's value one season back minus
        the season's mean, interpolated between blocks."""
        if self.history.period is None or not self.ts_ms:
            return None
        offset_s = 0.0 if origin_ms is None else (origin_ms - self.ts_ms[-1]) / 1000.0
        level = self._level()
        if len(horizons_s) <= 2:  # numpy's calls cost more than the floats for one or two
            return [self.offset_at((self.n - 1) + (offset_s + h) / self.p.step_s, level)
                    for h in horizons_s]
        at = (self.n - 1) + (offset_s + np.asarray(horizons_s, dtype=np.float64)) / self.p.step_s
        offsets: list[float] = self.offsets_at(at, level).tolist()
        return offsets

    def learn_one(self, ts_ms: int, value: float, refit: bool = True) -> None:
        if not value - value == 0.0 or (self.ts_ms and ts_ms <= self.ts_ms[-1]):  # not finite
            return None
        self._raw_fit = None
        self.history.push(float(value))
        self.n += 1
        self.ts_ms.append(int(ts_ms))
        self.raw.append(float(value))
        if len(self.ts_ms) > self.p.k:
            del self.ts_ms[0], self.raw[0]
        if self.history.period is None:  # nothing to take out: one array for both (#14; raw
            self.values = self.raw  # is changed in place only above, values set again here)
        else:  # offsets move with every block: deseasonalise the whole (short) list again
            first = self.n - len(self.raw)
            at = np.arange(first, self.n, dtype=np.float64)
            season = self.offsets_at(at, self._level())
            self.values = array("d", (np.asarray(self.raw) - season).tobytes())
        if refit:
            self._refit()
        return None

    def trend(self) -> TrendFit | None:
        """The line through the points as learnt (patterns are named on what was seen)."""
        if len(self.raw) < self.p.min_points:
            return None
        if self.history.period is None:  # nothing deseasonalised: the base fit is that line
            return self._fit
        fit = getattr(self, "_raw_fit", None)  # absent in a state restored from a pickle
        if fit is None:
            fit = self._raw_fit = fit_trend(self.ts_ms, self.raw)
        return fit

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        for cache in ("_raw_fit", "_level_at"):  # recomputed on demand, not checkpointed
            state.pop(cache, None)
        return state

    def _blank(self) -> Any:
        return SeasonalParams()

    # the parameters, read from ``p`` and set by replacing it with the shared copy
    # (processors.sharedparams; written out, not added by ``expose``: a mypyc class, s22)
    @property
    def step_s(self) -> int:
        return self.p.step_s  # type: ignore[no-any-return]

    @step_s.setter
    def step_s(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else self._blank()
        self.p = shared(base._replace(step_s=value))

    @property
    def block(self) -> int:
        return self.p.block  # type: ignore[no-any-return]

    @block.setter
    def block(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else self._blank()
        self.p = shared(base._replace(block=value))

    @property
    def capacity(self) -> int:
        return self.p.capacity  # type: ignore[no-any-return]

    @capacity.setter
    def capacity(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else self._blank()
        self.p = shared(base._replace(capacity=value))

    @property
    def min_acf(self) -> float:
        return self.p.min_acf  # type: ignore[no-any-return]

    @min_acf.setter
    def min_acf(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else self._blank()
        self.p = shared(base._replace(min_acf=value))


def make_forecaster(kind: str, step_s: int, k: int = 10) -> Forecaster:
    """``"trend"``, ``"seasonal"`` or ``"snarimax"``, as named in the pipeline's config."""
    if kind == "trend":
        return TrendForecaster(k=k)
    if kind == "seasonal":
        return SeasonalTrendForecaster(step_s=step_s, k=k)
    if kind == "snarimax":
        from processors.snarimax import SnarimaxForecaster  # River's; imported when chosen

        return SnarimaxForecaster(step_s=step_s)
    raise ValueError(f"unknown forecaster {kind!r}; use 'trend', 'seasonal' or 'snarimax'")
