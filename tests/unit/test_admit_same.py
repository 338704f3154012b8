"""s32, s33 (#14): the admit path's shortcuts give what the plain code gave, bit for bit.

* :func:`processors.features.clean_metrics` of a dict (a copy, then what is not a clean float
  dropped or made a float in its place) against the plain loop it replaced (a dict filled
  item by item): the same keys (the same objects), values and order, over dicts of every kind
  of value and key it meets;
* :func:`processors.openwindow.add` (a row appended as ``frombytes`` of packed doubles; a dict
  given back as it is) against the ``append`` / ``extend`` form it replaced: the same returned
  values, the same window forms and the same bytes of every array, over random samples in
  and out of order, with other metric sets, duplicates and windows turned into series;
* s33: ``openwindow._same`` against ``names == tuple(clean)`` (what it is again since s33;
  kept for whatever form it takes next), over keys that are the names' objects, equal copies,
  other orders, other names and other counts; ``openwindow._row`` (a dict's values as one
  list, ``t`` put in front) against the star call's bytes;
  :func:`~processors.validate.validate_sample` (a dict's fields through ``sample_field``)
  against ``sample.get``, over dicts, dict subclasses with their own ``get`` and other
  mappings.
"""

from __future__ import annotations

import math
import random
import struct
from array import array
from collections.abc import Mapping
from typing import Any

from processors import openwindow
from processors.features import TS_LIMIT_MS, clean_metrics, validate_sample
from processors.openwindow import OpenWindow, window_maps


def plain_clean(metrics: object) -> dict[str, float]:
    """clean_metrics as it was before s32."""
    if type(metrics) is not dict and not isinstance(metrics, Mapping):
        return {}
    out: dict[str, float] = {}
    for k, v in metrics.items():
        tv = type(v)
        if tv is float:
            if v - v == 0.0 and type(k) is str:
                out[k] = v
        elif tv is not bool and isinstance(v, int | float):
            try:
                f = float(v)
            except OverflowError:
                continue
            if f - f == 0.0 and type(k) is str:
                out[k] = f
    return out


def plain_add(store: dict[int, Any], start: int, ts_ms: int, clean: Mapping[str, float]
              ) -> dict[str, float]:
    """openwindow.add as it was before s32."""
    t = float(ts_ms)
    window = store.get(start)
    if window is None:
        store[start] = (tuple(clean), array("d", (t, *clean.values())))
        return dict(clean)
    if isinstance(window, tuple):
        names, data = window
        if t > data[-len(names) - 1] and len(names) == len(clean) and names == tuple(clean):
            data.append(t)
            data.extend(clean.values())
            return dict(clean)
        store[start] = window = openwindow._as_series(names, data)
    taken: dict[str, float] = {}
    for name, value in clean.items():
        series = window.get(name)
        if series is None:
            window[name] = array("d", (t, value))
        elif t in series and t in series[0::2]:
            continue
        else:
            series.append(t)
            series.append(value)
        taken[name] = value
    return taken


class Key(str):
    """A str subclass as a key: dropped."""


class Num(float):
    """A float subclass as a value: kept as a float."""


class Big(int):
    """An int subclass as a value."""


def _value(rng: random.Random) -> object:
    return rng.choice([
        rng.uniform(-1e6, 1e6), 0.0, -0.0, 5e-324, 1.7976931348623157e308, math.nan, math.inf,
        -math.inf, True, False, 3, -7, 10**400, -(10**400), Num(2.5), Num(math.nan), Big(9),
        "1.0", None, [1.0], 2**53 + 1,
    ])


def _key(rng: random.Random, i: int) -> object:
    return rng.choice([f"m{i}", f"m{i}", f"m{i}", Key(f"k{i}"), i, (i,), float(i) + 0.5])


def _same(a: dict[str, float], b: dict[str, float]) -> None:
    assert list(a) == list(b)
    assert all(x is y for x, y in zip(a, b, strict=True))  # the same key objects
    for x, y in zip(a.values(), b.values(), strict=True):
        assert type(x) is type(y) is float
        assert math.copysign(1.0, x) == math.copysign(1.0, y) and x == y


def test_clean_metrics_of_a_dict_is_the_plain_loop() -> None:
    rng = random.Random(32)
    for n in range(3000):
        size = rng.choice([0, 1, 2, 5, 12, 12, 12, 40])
        clean_only = n % 3 == 0  # the usual sample: every value a finite float, str keys
        d: dict[object, object] = {}
        for i in range(size):
            if clean_only:
                d[f"m{i}"] = rng.uniform(-1e3, 1e3)
            else:
                d[_key(rng, i)] = _value(rng)
        before = list(d.items())
        got = clean_metrics(d)
        _same(got, plain_clean(d))
        assert list(d.items()) == before  # the sample's own dict untouched
        if d:
            assert got is not d


def test_clean_metrics_of_other_kinds() -> None:
    class Sub(dict[str, object]):
        """A dict subclass: the generic path, as any other mapping."""

    kinds: list[object] = [None, 3, "x", [("a", 1.0)], Sub(a=1.0, b=math.nan, c=True), {}]
    for m in kinds:
        _same(clean_metrics(m), plain_clean(m))


def _bytes(store: dict[int, OpenWindow]) -> list[object]:
    out: list[object] = []
    for start, w in store.items():
        if isinstance(w, tuple):
            out.append((start, "rows", w[0], w[1].tobytes()))
        else:
            out.append((start, "series", [(k, s.tobytes()) for k, s in w.items()]))
    return out


def test_add_is_the_plain_add() -> None:
    rng = random.Random(3200)
    for _ in range(300):
        new: dict[int, OpenWindow] = {}
        old: dict[int, Any] = {}
        names = [f"m{i}" for i in range(rng.choice([1, 3, 12]))]
        ts = 0
        for _ in range(rng.randint(1, 60)):
            roll = rng.random()
            if roll < 0.8:
                ts += rng.choice([10_000, 10_000, 10_000, 1])
            elif roll < 0.9:
                ts -= rng.choice([1, 10_000, 30_000])  # out of order, maybe held already
            roll = rng.random()
            picked = (names if roll < 0.8 else rng.sample(names, len(names)) if roll < 0.87
                      else rng.sample(names, rng.randint(1, len(names))) if roll < 0.95
                      else [*names, "extra"] if roll < 0.98 else [*names[:-1], "other"])
            if rng.random() < 0.3:  # equal names, other objects (another message's keys)
                picked = [(n + ".")[:-1] for n in picked]
            values = {n: rng.choice([rng.uniform(-1e9, 1e9), -0.0, 5e-324, 1e308]) for n in picked}
            start = ts - ts % 60_000
            got = openwindow.add(new, start, ts, dict(values))
            want = plain_add(old, start, ts, dict(values))
            _same(got, want)
            assert _bytes(new) == _bytes(old)
            assert [window_maps(w) for w in new.values()] == [window_maps(w) for w in old.values()]


def test_add_gives_a_dict_back_as_it_is_and_copies_other_mappings() -> None:
    store: dict[int, OpenWindow] = {}
    first = {"a": 1.0, "b": 2.0}
    assert openwindow.add(store, 0, 10_000, first) is first
    second = {"a": 3.0, "b": 4.0}
    assert openwindow.add(store, 0, 20_000, second) is second
    view = _View({"a": 5.0, "b": 6.0})
    got = openwindow.add(store, 0, 30_000, view)
    assert type(got) is dict and got == {"a": 5.0, "b": 6.0}
    assert window_maps(store[0]) == {"a": {10_000: 1.0, 20_000: 3.0, 30_000: 5.0},
                                     "b": {10_000: 2.0, 20_000: 4.0, 30_000: 6.0}}


class _View(Mapping[str, float]):
    def __init__(self, d: dict[str, float]) -> None:
        self._d = d

    def __getitem__(self, k: str) -> float:
        return self._d[k]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)


def _copy(name: str) -> str:
    """An equal str that is another object."""
    got = (name + ".")[:-1]
    assert got == name and got is not name
    return got


def test_same_is_tuple_equality() -> None:
    rng = random.Random(3300)
    for _ in range(3000):
        names = tuple(f"m{i}" for i in range(rng.choice([1, 2, 5, 12, 12])))
        keys = list(names)
        roll = rng.random()
        if roll < 0.3:
            keys = [_copy(k) if rng.random() < 0.5 else k for k in keys]
        elif roll < 0.45:
            rng.shuffle(keys)
        elif roll < 0.6:
            keys[rng.randrange(len(keys))] = rng.choice(["other", "m", "m00", ""])
        elif roll < 0.7:
            keys = keys[:-1]
        elif roll < 0.8:
            keys = [*keys, "extra"]
        clean = {k: 1.0 for k in keys}
        assert openwindow._same(names, clean) is (names == tuple(clean))
        view = _View(clean)
        assert openwindow._same(names, view) is (names == tuple(clean))


def test_row_is_the_star_pack() -> None:
    rng = random.Random(3301)
    for _ in range(2000):
        n = rng.choice([1, 3, 12, 40])
        clean = {f"m{i}": rng.choice([rng.uniform(-1e9, 1e9), -0.0, 5e-324, 1e308, Num(2.5)])
                 for i in range(n)}
        t = float(rng.randrange(2**53))
        want = struct.pack(f"{n + 1}d", t, *clean.values())
        assert openwindow._row(t, clean) == want
        assert openwindow._row(t, _View(clean)) == want


class _OwnGet(dict[str, object]):
    """A dict subclass whose get is its own: validate_sample must call it."""

    def get(self, key: str, default: object = None) -> object:
        return {"component": "own", "ts": 7}.get(key, super().get(key, default))


def plain_validate(sample: object) -> tuple[str, str, int, dict[str, float]]:
    """validate_sample as it was before s33 (``sample.get``)."""
    if type(sample) is not dict and not isinstance(sample, Mapping):
        return f"invalid: a sample must be a mapping, not {type(sample).__name__}", "", 0, {}
    component = sample.get("component")
    if not isinstance(component, str) or not component:
        return "invalid: component must be a non-empty string", "", 0, {}
    ts = sample.get("ts")
    if not isinstance(ts, int) or isinstance(ts, bool):
        return (f"invalid: ts must be an int of epoch milliseconds, not {type(ts).__name__}",
                component, 0, {})
    if not -TS_LIMIT_MS < ts < TS_LIMIT_MS:
        return f"invalid: ts {ts} is out of range for epoch milliseconds", component, 0, {}
    metrics = clean_metrics(sample.get("metrics"))
    if not metrics:
        return "invalid: no finite numeric metric in the sample", component, ts, {}
    return "", component, ts, metrics


def test_validate_sample_is_the_plain_get() -> None:
    rng = random.Random(3302)
    for _ in range(3000):
        sample: dict[str, object] = {}
        for key, choices in (("component", ["a", "", 3, None]),
                             ("ts", [10_000, -5, True, 2**53, -(2**53) + 1, 1.5, None]),
                             ("metrics", [{"x": 1.0, "y": math.nan}, {"x": True}, {}, None])):
            if rng.random() < 0.9:
                sample[key] = rng.choice(choices)
        kind = rng.random()
        view = _View(sample)  # type: ignore[arg-type]
        given: object = (sample if kind < 0.6 else _OwnGet(sample) if kind < 0.8
                         else view if kind < 0.95 else list(sample.items()))
        got, want = validate_sample(given), plain_validate(given)
        assert got[:3] == want[:3]
        _same(got[3], want[3])
