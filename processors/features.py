"""Event-time tumbling windows with bounded lateness, and the features of a closed window.

One :class:`Windower` per component. Its state (:class:`WindowState`) is a plain value that
round-trips through :meth:`WindowState.to_dict` / :meth:`WindowState.from_dict`, so it can be
checkpointed. Only event time is used; nothing here reads a clock.

Rules, with ``W = window_s`` and ``L = lateness_s`` (both in seconds):

* the watermark is the largest ``ts`` accepted so far;
* window ``[s, s + W)`` closes once ``watermark >= s + W + L`` (or on :meth:`Windower.flush`);
* a sample whose window has closed is LATE: it is refused with a reason, never raised.
  Anything with ``ts >= watermark - L`` is therefore always accepted;
* a value for a ``(ts, metric)`` already held is a duplicate and ignored (at-least-once
  redelivery); a sample made only of such values is a DUPLICATE and counted. Samples that
  share a ``ts`` but carry different metrics (Telegraf sends one line per input) all count.

An open window is held compactly (:mod:`processors.openwindow`: rows of one ``array('d')``,
or one per metric): ~0.8 KB for 6 samples of 12 metrics against ~3 KB as ``ts -> value``
dicts with their float and int objects (#14). :func:`window_maps` gives the dicts back.

>>> w = Windower(window_s=60, lateness_s=30)
>>> w.add(0, {"cpu.util": 0.5})[0], w.add(0, {"cpu.util": 0.5})[0]
('accepted', 'duplicate')
>>> _ = w.add(90_000, {"cpu.util": 0.7})
>>> [(c.start_ms, c.features["cpu.util"].mean) for c in w.advance()]
[(0, 0.5)]
>>> w.add(10_000, {"cpu.util": 0.1})[0]
'late'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np

from processors.nativeattr import mypyc_attr
from processors.openwindow import OpenWindow, Rows, closing, samples_in, sorted_rows
from processors.openwindow import add as add_to_window
from processors.openwindow import window_maps as window_maps  # re-exported
from processors.openwindow import window_series as window_series
from processors.validate import TS_LIMIT_MS as TS_LIMIT_MS  # re-exported
from processors.validate import clean_metrics as clean_metrics  # re-exported
from processors.validate import validate_sample as validate_sample  # re-exported

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
LATE = "late"
EMPTY = "empty"

FEATURE_NAMES = (
    "mean",
    "max",
    "min",
    "p95",
    "last",
    "slope",
    "growth",
    "volatility",
    "rate_of_change",
)


class MetricFeatures(NamedTuple):
    """One metric over one closed window. ``slope`` and ``rate_of_change`` are per second.

    A named tuple: a window makes one per metric, and a tuple is built several times faster
    than a frozen dataclass."""

    mean: float
    max: float
    min: float
    p95: float
    last: float
    slope: float  # least-squares slope of value against time
    growth: float  # (mean - previous window's mean) / |previous mean|; 0 without one
    volatility: float  # population standard deviation
    rate_of_change: float  # (last - first) / seconds between them
    count: int  # type: ignore[assignment]  # shadows tuple.count(); a field since v1
    ts_mean_ms: int  # mean sample time, where ``mean`` is best placed on a time axis


@dataclass(frozen=True, slots=True)
class ClosedWindow:
    """A closed window ``[start_ms, end_ms)`` and its per-metric features."""

    start_ms: int
    end_ms: int
    n_samples: int
    features: dict[str, MetricFeatures]


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class WindowState:
    """Everything a :class:`Windower` keeps; a value, keyed by its parameters."""

    window_s: int
    lateness_s: int
    watermark_ms: int | None = None
    closed_until_ms: int | None = None  # windows ending at or before this are closed
    # window start -> its samples (processors.openwindow: metric -> ts -> value, compactly;
    # sorted on close)
    open: dict[int, OpenWindow] = field(default_factory=dict)
    prev_mean: dict[str, float] = field(default_factory=dict)
    accepted: int = 0
    duplicates: int = 0
    late: int = 0
    windows_closed: int = 0

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with ``ts -> value`` maps, as format 2 wrote them (``legacy_state``)."""
        state = {name: getattr(self, name) for name in self.__slots__}
        state["open"] = {start: window_maps(w) for start, w in self.open.items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        maps: dict[int, dict[str, dict[int, float]]] = state.pop("open")
        for name, value in state.items():
            object.__setattr__(self, name, value)
        self.open = {start: window_series(w) for start, w in maps.items()}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (int keys become lists of pairs)."""
        d = asdict(self)
        d["open"] = [
            [start, {m: [[t, v] for t, v in tv.items()] for m, tv in window_maps(metrics).items()}]
            for start, metrics in self.open.items()
        ]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WindowState:
        d = dict(d)
        d["open"] = {
            int(start): window_series(
                {m: {int(t): float(v) for t, v in tv} for m, tv in metrics.items()})
            for start, metrics in d.get("open", [])
        }
        d["prev_mean"] = dict(d.get("prev_mean", {}))
        return cls(**d)


@mypyc_attr(serializable=True)
class Windower:
    """Tumbling event-time windows for one component."""

    __slots__ = ("window_s", "lateness_s", "state", "_w_ms", "_l_ms")

    def __init__(
        self, window_s: int = 60, lateness_s: int = 30, state: WindowState | None = None
    ) -> None:
        if window_s <= 0 or lateness_s < 0:
            raise ValueError(f"window_s must be > 0 and lateness_s >= 0 ({window_s}, {lateness_s})")
        self.window_s = window_s
        self.lateness_s = lateness_s
        self.state = state if state is not None else WindowState(window_s, lateness_s)
        self._w_ms = window_s * 1000
        self._l_ms = lateness_s * 1000

    def window_start(self, ts_ms: int) -> int:
        return ts_ms - ts_ms % self._w_ms

    def is_late(self, ts_ms: int) -> bool:
        """Whether ``ts_ms`` falls in a window that has already closed."""
        st = self.state
        end = self.window_start(ts_ms) + self._w_ms
        if st.closed_until_ms is not None and end <= st.closed_until_ms:
            return True
        return st.watermark_ms is not None and end + self._l_ms <= st.watermark_ms

    def add(self, ts_ms: int, metrics: Mapping[str, float]) -> tuple[str, dict[str, float]]:
        """Admit one sample: ``(ACCEPTED | DUPLICATE | LATE | EMPTY, the values taken)``.

        ``metrics`` should already be clean (see :func:`clean_metrics`); values that are not
        finite numbers are skipped anyway.
        """
        return self.add_clean(ts_ms, clean_metrics(metrics))

    def add_clean(self, ts_ms: int, clean: Mapping[str, float]) -> tuple[str, dict[str, float]]:
        """:meth:`add` for values known to be finite floats (:func:`validate_sample` gives
        them): the same, without checking them again."""
        st = self.state
        if not clean:
            return EMPTY, {}
        if self.is_late(ts_ms):
            st.late += 1
            return LATE, {}
        taken = add_to_window(st.open, self.window_start(ts_ms), ts_ms, clean)
        if not taken:
            st.duplicates += 1
            return DUPLICATE, {}
        st.accepted += 1
        if st.watermark_ms is None or ts_ms > st.watermark_ms:
            st.watermark_ms = ts_ms
        return ACCEPTED, taken

    def advance(self, watermark_ms: int | None = None) -> list[ClosedWindow]:
        """Close, oldest first, every window the watermark has passed by the lateness.

        ``watermark_ms`` moves the watermark forward (never back) first, e.g. from a
        partition's stream time, so that a silent component's last window still closes.
        """
        st = self.state
        if watermark_ms is not None and (st.watermark_ms is None or watermark_ms > st.watermark_ms):
            st.watermark_ms = watermark_ms
        if st.watermark_ms is None:
            return []
        limit = st.watermark_ms - self._l_ms - self._w_ms
        return [self._close(s) for s in sorted(st.open) if s <= limit]

    def flush(self) -> list[ClosedWindow]:
        """Close every open window now (the end of a replay)."""
        return [self._close(s) for s in sorted(self.state.open)]

    def _close(self, start_ms: int) -> ClosedWindow:
        st = self.state
        window = closing(st.open.pop(start_ms))
        end_ms = start_ms + self._w_ms
        st.closed_until_ms = (
            end_ms if st.closed_until_ms is None else max(st.closed_until_ms, end_ms)
        )
        st.windows_closed += 1
        feats = window_features(window, start_ms, st.prev_mean)
        for name, f in feats.items():
            st.prev_mean[name] = f.mean
        return ClosedWindow(start_ms, end_ms, samples_in(window), feats)


def window_features(
    window: Mapping[str, Mapping[int, float]] | Rows,
    start_ms: int,
    prev_mean: Mapping[str, float] | None = None,
) -> dict[str, MetricFeatures]:
    """Features of every metric in ``window`` (metric -> ts -> value, or the rows of
    :mod:`processors.openwindow`), in metric-name order.

    Metrics sampled at the same instants (the usual case) are computed together as rows of
    one 2-D array.
    """
    prev = prev_mean or {}
    if isinstance(window, tuple):  # rows: every metric at the same, increasing times
        return _rows_features(window, prev)
    groups: dict[tuple[int, ...], list[str]] = {}
    for name in sorted(window):
        if window[name]:
            groups.setdefault(tuple(sorted(window[name])), []).append(name)
    out: dict[str, MetricFeatures] = {}
    for stamps, names in groups.items():
        ts = np.asarray(stamps, dtype=np.int64)
        rows = [  # samples usually arrive in time order: their values are then already sorted
            list(window[n].values()) if tuple(window[n]) == stamps
            else [window[n][t] for t in stamps]
            for n in names
        ]
        values = np.asarray(rows, dtype=np.float64)
        prev_row = np.asarray([prev.get(n, np.nan) for n in names], dtype=np.float64)
        for name, f in zip(names, _features_2d(ts, values, prev_row), strict=True):
            out[name] = f
    return dict(sorted(out.items()))


def _rows_features(window: Rows, prev: Mapping[str, float]) -> dict[str, MetricFeatures]:
    """:func:`window_features` of a rows window: the one part the maps it stands for make
    (the same arrays, so the same numbers)."""
    names, stamps, rows = sorted_rows(window)
    values = np.asarray(rows, dtype=np.float64)
    prev_row = np.asarray([prev.get(n, np.nan) for n in names], dtype=np.float64)
    feats = _features_2d(np.asarray(stamps, dtype=np.int64), values, prev_row)
    return dict(zip(names, feats, strict=True))


def row_stats(v: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per row of ``v``: its sorted values, p95 (linear interpolation, as numpy.percentile's
    default), mean, deviations from the mean and std (from centred squares: np.std costs ~5x
    more). Few, cheap numpy calls; the batch core (:mod:`processors.batch.features`) shares it."""
    n = v.shape[1]
    with np.errstate(all="ignore"):
        srt = np.sort(v, axis=1)
        pos = 0.95 * (n - 1)
        lo = int(pos)
        hi = min(lo + 1, n - 1)
        p95 = srt[:, lo] + (srt[:, hi] - srt[:, lo]) * (pos - lo)
        mean = v.sum(axis=1) / n
        dev = v - mean[:, None]
        std = np.sqrt((dev * dev).sum(axis=1) / n)
    return srt, p95, mean, dev, std


def feature_table(v: np.ndarray, srt: np.ndarray, p95: np.ndarray, mean: np.ndarray,
                  prev: np.ndarray, slope: np.ndarray, std: np.ndarray,
                  roc: np.ndarray) -> np.ndarray:
    """The 9 x rows table of :class:`MetricFeatures` fields (growth against ``prev``), with
    what overflowed on absurd inputs set to 0, never NaN downstream."""
    with np.errstate(all="ignore"):
        ok = np.isfinite(prev) & (np.abs(prev) > 1e-12)
        growth = np.where(ok, (mean - prev) / np.where(ok, np.abs(prev), 1.0), 0.0)
        table = np.empty((9, len(v)))  # filled row by row: np.stack costs more than all this
        for k, row in enumerate((mean, srt[:, -1], srt[:, 0], p95, v[:, -1], slope, growth,
                                 std, roc)):
            table[k] = row
        if not np.isfinite(table).all():
            table[~np.isfinite(table)] = 0.0
    return table


def _features_2d(ts_ms: np.ndarray, v: np.ndarray, prev: np.ndarray) -> list[MetricFeatures]:
    """Features per row of ``v`` (metrics x samples), samples at sorted times ``ts_ms``."""
    n = v.shape[1]
    t = (ts_ms - ts_ms[0]).astype(np.float64) / 1000.0  # seconds, small numbers
    with np.errstate(all="ignore"):  # one sort gives min, max and p95 (row_stats)
        srt, p95, mean, dev, std = row_stats(v)
        tc = t - t.sum() / n
        sxx = float(tc @ tc)
        slope = dev @ tc / sxx if sxx > 0 else np.zeros(len(v))
        span = float(t[-1])
        roc = (v[:, -1] - v[:, 0]) / span if span > 0 else np.zeros(len(v))
        table = feature_table(v, srt, p95, mean, prev, slope, std, roc)
    ts_mean = int(ts_ms[0]) + round(float(t.sum() / n) * 1000.0)
    return [
        MetricFeatures(mu, hi, lo, q95, last, b, g, sd, r, count=n, ts_mean_ms=ts_mean)
        for mu, hi, lo, q95, last, b, g, sd, r in table.T.tolist()
    ]
