"""Window features for many components at once: the first stage of the batch core (#14).

Per component, :func:`processors.features.window_features` makes ~30 numpy calls for a window
of 12 metrics x 6 samples; each call costs more in overhead than in arithmetic. Here the
windows that close together (in a poll, usually those of many components at the same minute)
are grouped by their sample times — components shipped on the same interval share them — and
each group's rows (component x metric) go through :func:`processors.features._features_2d`
once. Every row is computed by the same numpy operations as alone (sorts, sums and products
along a row; the slope's matrix-vector product row by row), so the numbers are the same bit
for bit: ``tests/unit/test_batch_features.py`` checks it on the bench data and NAB files.

:func:`advance_all` is :meth:`processors.features.Windower.advance` for many windowers: the
same windows closed, the same state changes, the same :class:`ClosedWindow` values.

>>> from processors.features import Windower
>>> ws = [Windower(60, 30), Windower(60, 30)]
>>> for i, w in enumerate(ws):
...     for ts in (0, 10_000, 20_000, 95_000):
...         _ = w.add(ts, {"cpu": float(i + ts // 10_000)})
>>> [[(c.start_ms, c.features["cpu"].mean) for c in closed] for closed in advance_all(ws)]
[[(0, 1.0)], [(0, 2.0)]]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain

import numpy as np

from processors.features import (
    ClosedWindow,
    MetricFeatures,
    Windower,
    feature_table,
    row_stats,
)
from processors.openwindow import Rows, closing, samples_in, sorted_rows

__all__ = ["advance_all", "batch_window_features", "close_due", "features_by_round",
           "features_rows"]

Window = Mapping[str, Mapping[int, float]] | Rows  # metric -> ts -> value, or rows
# the rows of one window that share a time tuple: (window index, times, metric names, rows,
# previous means); window_features computes each such part with one _features_2d call
_Part = tuple[int, tuple[int, ...], list[str], list[Iterable[float]], list[float]]


def batch_window_features(
    windows: Sequence[tuple[Window, Mapping[str, float] | None]],
) -> list[dict[str, MetricFeatures]]:
    """:func:`processors.features.window_features` of each ``(window, prev_mean)``, computed
    together; the same dicts, in the same order.

    >>> w1 = {"a": {0: 1.0, 10_000: 3.0}, "b": {0: 2.0, 10_000: 2.0}}
    >>> w2 = {"a": {5_000: 5.0, 25_000: 1.0}}
    >>> [{m: (f.mean, f.slope) for m, f in d.items()}
    ...  for d in batch_window_features([(w1, None), (w2, {"a": 2.0})])]
    [{'a': (2.0, 0.2), 'b': (2.0, 0.0)}, {'a': (3.0, -0.2)}]
    """
    groups: dict[int, list[_Part]] = {}  # samples per row -> parts
    for i, (window, prev_mean) in enumerate(windows):
        _group_rows(i, window, prev_mean or {}, groups)
    outs: list[dict[str, MetricFeatures]] = [{} for _ in windows]
    for unsorted in groups.values():
        parts = sorted(unsorted, key=lambda part: len(part[2]))  # equal sizes side by side
        ts = np.asarray([part[1] for part in parts], dtype=np.int64)
        sizes = [len(part[2]) for part in parts]
        flat = chain.from_iterable(r for *_, rows, _ in parts for r in rows)
        values = np.fromiter(flat, np.float64, sum(sizes) * ts.shape[1]).reshape(-1, ts.shape[1])
        prev = np.asarray([p for *_, prevs in parts for p in prevs], dtype=np.float64)
        feats = iter(features_rows(ts, values, prev, sizes))
        for i, _, names, _, _ in parts:
            out = outs[i]
            for name in names:
                out[name] = next(feats)
    return [dict(sorted(out.items())) for out in outs]


def _group_rows(
    i: int, window: Window, prev: Mapping[str, float], groups: dict[int, list[_Part]]
) -> None:
    """Window ``i``'s metrics, in the parts :func:`window_features` makes of them (metrics
    with the same sorted sample times), appended to ``groups`` by their number of samples."""
    nan = float("nan")
    if isinstance(window, tuple):  # rows (processors.openwindow): the usual window, below
        names, stamps, values = sorted_rows(window)
        groups.setdefault(len(stamps), []).append(
            (i, stamps, names, list(values), [prev.get(n, nan) for n in names]))
        return
    names = sorted(window)
    first = tuple(window[names[0]]) if names else ()
    if first and all(tuple(window[n]) == first for n in names) and list(first) == sorted(first):
        # the usual window: every metric at the same times, arrived in time order
        rows: list[Iterable[float]] = [window[n].values() for n in names]
        part = (i, first, names, rows, [prev.get(n, nan) for n in names])
        groups.setdefault(len(first), []).append(part)
        return
    mine: dict[tuple[int, ...], list[str]] = {}
    for name in names:
        if window[name]:
            mine.setdefault(tuple(sorted(window[name])), []).append(name)
    for stamps, names in mine.items():
        rows = [
            window[n].values() if tuple(window[n]) == stamps
            else [window[n][t] for t in stamps]
            for n in names
        ]
        part = (i, stamps, names, rows, [prev.get(n, nan) for n in names])
        groups.setdefault(len(stamps), []).append(part)


def features_rows(
    ts_ms: np.ndarray, v: np.ndarray, prev: np.ndarray, sizes: Sequence[int]
) -> list[MetricFeatures]:
    """``processors.features._features_2d`` for several parts at once: part ``p`` is
    ``sizes[p]`` adjacent rows of ``v`` (metrics x samples) sampled at times ``ts_ms[p]``
    (parts x samples; equal sizes adjacent). Each row gets the numbers it gets from
    ``_features_2d`` of its own part; keep the two in step (the unit test checks it).

    Element-wise steps and reductions along a row are the same whatever the rows around them.
    The products with the centred times are not (BLAS blocks a matrix's rows by fours), so
    they keep each part's own shape: ``tc . tc`` and ``rows @ tc`` as stacked matmuls, which
    call BLAS once per part with the part's own operands, as the per-part code does."""
    n = v.shape[1]
    sizes_a = np.asarray(sizes)
    t = (ts_ms - ts_ms[:, :1]).astype(np.float64) / 1000.0  # per part: seconds from its first
    with np.errstate(all="ignore"):
        srt, p95, mean, dev, std = row_stats(v)
        t_mean = t.sum(axis=1) / n
        tc = t - t_mean[:, None]
        sxx = (tc[:, None, :] @ tc[:, :, None]).ravel()
        sxx_rows = np.repeat(sxx, sizes_a)
        slope = np.where(sxx_rows > 0, _slopes(dev, tc, sizes) / sxx_rows, 0.0)
        span = np.repeat(t[:, -1], sizes_a)
        roc = np.where(span > 0, (v[:, -1] - v[:, 0]) / span, 0.0)
        table = feature_table(v, srt, p95, mean, prev, slope, std, roc)
    ts_means = [int(t0) + round(m * 1000.0) for t0, m in zip(ts_ms[:, 0].tolist(),
                                                               t_mean.tolist(), strict=True)]
    stamps = [ts for ts, size in zip(ts_means, sizes, strict=True) for _ in range(size)]
    make = tuple.__new__  # MetricFeatures(...) by keyword costs ~3x more, per row
    return [
        make(MetricFeatures, (*row, n, ts_mean))
        for row, ts_mean in zip(table.T.tolist(), stamps, strict=True)
    ]


def _slopes(dev: np.ndarray, tc: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """``dev[rows of part p] @ tc[p]`` for every part, concatenated: one stacked matmul per
    run of parts of equal size (BLAS once per part, with the part's own shape)."""
    out = np.empty(len(dev))
    a = 0
    k = 0
    while k < len(sizes):
        size = sizes[k]
        run = 1
        while k + run < len(sizes) and sizes[k + run] == size:
            run += 1
        b = a + size * run
        out[a:b] = (dev[a:b].reshape(run, size, -1) @ tc[k:k + run, :, None]).ravel()
        a, k = b, k + run
    return out


def advance_all(
    windowers: Sequence[Windower], watermarks_ms: Sequence[int | None] | None = None
) -> list[list[ClosedWindow]]:
    """``[w.advance(m) for w, m in zip(windowers, watermarks_ms)]``, with every closing
    window's features computed together; the same windows, state and values."""
    marks = watermarks_ms if watermarks_ms is not None else [None] * len(windowers)
    closed: list[list[ClosedWindow]] = [[] for _ in windowers]
    features_by_round([(w, close_due(w, m), sink)
                       for w, m, sink in zip(windowers, marks, closed, strict=True)])
    return closed


def close_due(windower: Windower, watermark_ms: int | None = None) -> list[tuple[int, Window]]:
    """:meth:`Windower.advance` without the features: the windows due, oldest first, taken
    out of the windower as ``(start, window)``, with the windower's state changed as closing
    them changes it — except ``prev_mean``, which :func:`features_by_round` sets."""
    st = windower.state
    if watermark_ms is not None and (st.watermark_ms is None or watermark_ms > st.watermark_ms):
        st.watermark_ms = watermark_ms
    if st.watermark_ms is None:
        return []
    w_ms = windower.window_s * 1000
    limit = st.watermark_ms - windower.lateness_s * 1000 - w_ms
    for s in st.open:
        if s <= limit:
            break
    else:  # none due (most samples): no sorted list made (s32)
        return []
    due: list[tuple[int, Window]] = [(s, closing(st.open.pop(s)))
                                     for s in sorted(st.open) if s <= limit]
    for start, _ in due:
        end_ms = start + w_ms
        st.closed_until_ms = (
            end_ms if st.closed_until_ms is None else max(st.closed_until_ms, end_ms)
        )
        st.windows_closed += 1
    return due


def features_by_round(
    items: Sequence[tuple[Windower, Sequence[tuple[int, Window]], list[ClosedWindow]]],
) -> None:
    """The :class:`ClosedWindow` of every ``(windower, windows from close_due, sink)``,
    appended to its sink; ``prev_mean`` updated as ``Windower._close`` updates it.

    A windower's windows (across items, in order) are computed oldest first, each after the
    one before (its mean is the next one's ``prev_mean``): round k takes every windower's
    k-th window, and each round is one :func:`batch_window_features`."""
    queues: dict[int, list[tuple[Windower, int, Window, list[ClosedWindow]]]] = {}
    for w, due, sink in items:
        queues.setdefault(id(w), []).extend((w, start, win, sink) for start, win in due)
    lanes = list(queues.values())
    for k in range(max((len(q) for q in lanes), default=0)):
        batch = [q[k] for q in lanes if len(q) > k]
        feats = batch_window_features([(win, w.state.prev_mean) for w, _, win, _ in batch])
        for (w, start, window, sink), f in zip(batch, feats, strict=True):
            for name, mf in f.items():
                w.state.prev_mean[name] = mf.mean
            sink.append(ClosedWindow(start, start + w.window_s * 1000, samples_in(window), f))
