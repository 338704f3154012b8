"""An open window's samples, compactly (#14): what :class:`processors.features.WindowState`
holds per window until it closes.

A window stands for ``metric -> ts -> value`` maps (insertion order; a ``(ts, metric)`` held
once). It is held in one of two forms, chosen by what arrives:

* **rows** (the usual case: every sample carries the same metrics, in the same order, at a
  later ``ts`` than the one before): ``(names, data)``, the metric names once (a tuple shared
  by every window and component with those names) and one ``array('d')`` of rows
  ``ts, value of each name``; ~0.8 KB for 6 samples of 12 metrics;
* **series** (anything else: a sample with other metrics, e.g. Telegraf's one line per input,
  or out of time order): ``metric ->`` one ``array('d')`` of ``ts, value`` pairs in arrival
  order (a :data:`Series`). A rows window turns into series when such a sample arrives.

Both give the same maps (:func:`window_maps`), so the features, the snapshot (written as the
maps, the bytes of before) and every output are those of the dicts these forms replaced
(~3 KB a window of 12 metrics with their float and int objects). Timestamps are exact as
doubles: :func:`processors.validate.validate_sample` keeps them below ``2**53``.

>>> store = {}
>>> add(store, 0, 10_000, {"a": 1.0, "b": 2.0}), add(store, 0, 20_000, {"a": 3.0, "b": 4.0})
({'a': 1.0, 'b': 2.0}, {'a': 3.0, 'b': 4.0})
>>> type(store[0]).__name__, window_maps(store[0])
('tuple', {'a': {10000: 1.0, 20000: 3.0}, 'b': {10000: 2.0, 20000: 4.0}})
>>> add(store, 0, 20_000, {"a": 9.0}), add(store, 0, 20_000, {"c": 5.0})
({}, {'c': 5.0})
>>> type(store[0]).__name__, window_maps(store[0])["c"]
('dict', {20000: 5.0})
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping
from struct import Struct
from typing import TypeAlias

__all__ = ["OpenWindow", "Rows", "Series", "add", "closing", "samples_in", "series_map",
           "sorted_rows", "window_maps", "window_series"]

Series: TypeAlias = "array[float]"  # ts, value pairs in arrival order (one metric's samples)
Rows: TypeAlias = tuple[tuple[str, ...], array]  # type: ignore[type-arg]  # names; rows
OpenWindow: TypeAlias = "Rows | dict[str, Series]"

_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per set of metric names
_NAMES_LIMIT = 4096
# a row of n doubles as the bytes ``array('d')`` holds them (native order): a row appended as
# ``frombytes(pack(t, *values))``, not ``append`` and ``extend`` (each value through
# ``PyArg_Parse``, s32); the same bits (``PyFloat_AsDouble`` both ways)
_PACKS: dict[int, Callable[..., bytes]] = {}


def _shared(names: tuple[str, ...]) -> tuple[str, ...]:
    got = _NAMES.get(names)
    if got is None:
        if len(_NAMES) >= _NAMES_LIMIT:  # a fleet of ever-new names: stop sharing old ones
            _NAMES.clear()
        got = _NAMES[names] = names
    return got


def _pack(n: int) -> Callable[..., bytes]:
    got = _PACKS.get(n)
    if got is None:
        if len(_PACKS) >= _NAMES_LIMIT:
            _PACKS.clear()
        got = _PACKS[n] = Struct(f"{n}d").pack
    return got


def add(store: dict[int, OpenWindow], start: int, ts_ms: int, clean: Mapping[str, float]
        ) -> dict[str, float]:
    """Add a sample's values (finite floats, at least one) to the window ``start`` of
    ``store``: the values taken (those whose ``(ts, metric)`` was not held yet; ``clean``
    itself when it is a dict and all were taken)."""
    t = float(ts_ms)
    window = store.get(start)
    if window is None:
        store[start] = (_shared(tuple(clean)), array("d", _row(t, clean)))
        return clean if type(clean) is dict else dict(clean)
    if isinstance(window, tuple):
        names, data = window
        last: float = data[-len(names) - 1]  # unboxed: compared as doubles (s33)
        if t > last and len(names) == len(clean) and _same(names, clean):
            data.frombytes(_row(t, clean))
            return clean if type(clean) is dict else dict(clean)
        store[start] = window = _as_series(names, data)
    taken: dict[str, float] = {}
    for name, value in clean.items():
        series = window.get(name)
        if series is None:
            window[name] = array("d", (t, value))
        elif t in series and t in series[0::2]:  # held (a value equal to t is not)
            continue
        else:
            series.append(t)
            series.append(value)
        taken[name] = value
    return taken


def _row(t: float, clean: Mapping[str, float]) -> bytes:
    """A row's bytes: ``t`` then ``clean``'s values, as doubles. A dict's values taken as one
    list (``PyDict_Values``) with ``t`` put in front, not a star call's list extended from the
    values view (s33)."""
    if type(clean) is dict:
        row: list[float] = list(clean.values())
        row.insert(0, t)
        return _pack(len(row))(*row)
    return _pack(len(clean) + 1)(t, *clean.values())


def _same(names: tuple[str, ...], clean: Mapping[str, float]) -> bool:
    """``names == tuple(clean)``, as one tuple and one compare in C (s33: the loop of s32
    compared one name at a time, cheaper compiled but ~2.7k dearer interpreted)."""
    return names == tuple(clean)


def _as_series(names: tuple[str, ...], data: array[float]) -> dict[str, Series]:
    width = len(names) + 1
    stamps = data[0::width]
    out: dict[str, Series] = {}
    for i, name in enumerate(names):
        pairs = array("d", bytes(16 * len(stamps)))
        pairs[0::2], pairs[1::2] = stamps, data[i + 1::width]
        out[name] = pairs
    return out


def series_map(series: Series) -> dict[int, float]:
    """A :data:`Series` as the ``ts -> value`` dict it stands for (same order).

    >>> series_map(array("d", [60_000.0, 0.5, 50_000.0, 0.25]))
    {60000: 0.5, 50000: 0.25}
    """
    return dict(zip(map(int, series[0::2]), series[1::2], strict=True))


def window_maps(window: OpenWindow | Mapping[str, Mapping[int, float]]
                ) -> dict[str, dict[int, float]]:
    """An open window as ``metric -> ts -> value`` dicts: what
    :func:`processors.features.window_features` and the batch core read (a window that is
    such dicts already, as a format-2 pickle holds it, is copied)."""
    if type(window) is tuple:
        names, data = window
        width = len(names) + 1
        stamps = list(map(int, data[0::width]))
        return {name: dict(zip(stamps, data[i + 1::width], strict=True))
                for i, name in enumerate(names)}
    assert isinstance(window, Mapping)
    return {name: dict(s) if isinstance(s, Mapping) else series_map(s)
            for name, s in window.items()}


def closing(window: OpenWindow) -> Rows | dict[str, dict[int, float]]:
    """A window taken out to close: rows as they are (:func:`sorted_rows` reads them), series
    as ``metric -> ts -> value`` dicts."""
    return window if isinstance(window, tuple) else window_maps(window)


def sorted_rows(window: Rows) -> tuple[list[str], tuple[int, ...], list[Series]]:
    """A rows window as its metric names in name order, its times (increasing) and each
    named metric's values at those times: the one part ``window_features`` makes of it."""
    names, data = window
    width = len(names) + 1
    order = sorted(range(len(names)), key=names.__getitem__)
    return ([names[j] for j in order], tuple(map(int, data[0::width])),
            [data[j + 1::width] for j in order])


def samples_in(window: Rows | Mapping[str, Mapping[int, float]]) -> int:
    """How many distinct sample times a closing window (:func:`closing`) holds."""
    if isinstance(window, tuple):
        return len(window[1]) // (len(window[0]) + 1)
    return len({t for series in window.values() for t in series})


def window_series(maps: Mapping[str, Mapping[int, float]]) -> OpenWindow:
    """The inverse of :func:`window_maps` (a checkpoint's open window, read back): rows when
    every metric has the same, increasing timestamps, else series."""
    items = list(maps.items())
    stamps = list(items[0][1]) if items else []
    if stamps and all(a < b for a, b in zip(stamps, stamps[1:], strict=False)) and all(
            list(tv) == stamps for _, tv in items):
        data = array("d")
        for t in stamps:
            data.append(float(t))
            data.extend(float(tv[t]) for _, tv in items)
        return _shared(tuple(name for name, _ in items)), data
    return {name: array("d", [float(x) for tv in tv_map.items() for x in tv])
            for name, tv_map in items}
