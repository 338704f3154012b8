"""The writer's shortcuts for custom-encoded types (s32, ``processors.statewritefast``) and
the pending rows read in one call (``pendingrows.unpack``): the same values as before."""

from __future__ import annotations

import dataclasses
import random
from array import array
from typing import Any

from processors import pendingrows, statewrite
from processors.pendingrows import pack, unpack
from processors.pipeline import Pipeline
from processors.stateschema import schema
from processors.statewritefast import fast_writer
from tests.unit.test_state_format import CONFIGS, _run, samples

SHORTCUTS = ("PendingLabels", "WindowState", "BayesNet", "MetricOutlook", "PageHinkley")


def _objects(value: Any, out: dict[str, list[Any]], seen: set[int]) -> None:
    """Every state object of a shortcut's type under ``value`` (by the schema's fields)."""
    if id(value) in seen:
        return
    seen.add(id(value))
    tags = statewrite.tags()
    tag = tags.get(type(value))
    if tag is not None:
        out.setdefault(tag, []).append(value)
        for name in schema()[tag].fields:
            _objects(getattr(value, name, None), out, seen)
    elif isinstance(value, dict):
        for v in value.values():
            _objects(v, out, seen)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _objects(v, out, seen)


def _old_unpack(row: Any) -> tuple[int, dict[str, float], dict[str, int]]:
    """``unpack`` as it was before s32 (an array, two zips)."""
    if isinstance(row, tuple):
        end_ms, base, states = row
        return end_ms, dict(base), dict(states)
    end_ms, number = pendingrows._HEAD.unpack_from(row)
    base_names, state_names = pendingrows._NAMES[number]
    cut = pendingrows._HEAD.size + 8 * len(base_names)
    values = array("d")
    values.frombytes(row[pendingrows._HEAD.size:cut])
    return end_ms, dict(zip(base_names, values, strict=True)), dict(
        zip(state_names, row[cut:], strict=True))


def test_the_shortcuts_give_the_encodes_values_in_the_schemas_order() -> None:
    found: dict[str, list[Any]] = {}
    for name, n, metrics in [("records", 400, 3), ("novelty", 300, 2), ("hst", 300, 3),
                             ("joint", 300, 3), ("novelty", 3, 1)]:
        p = Pipeline(CONFIGS[name])
        _run(p, samples("db-1", n, metrics))
        _objects(p._states["db-1"], found, set())
        _objects(p.fleet, found, set())
    rows = 0
    for tag in SHORTCUTS:
        ts = schema()[tag]
        fast = fast_writer(tag, ts)
        assert fast is not None and found.get(tag), tag
        for obj in found[tag]:
            out = statewrite.fields_of(tag, obj)
            want = [out[n] for n in ts.fields]
            got = list(fast(obj))
            if tag == "PendingLabels":  # the deque of tuples as the lists the writer packs
                at = list(ts.fields).index("items")
                want[at] = [statewrite.DEQUE_MARK, want[at].maxlen,
                            *[[statewrite.TUPLE_MARK, *t] for t in want[at]]]
                rows += len(want[at]) - 2
            assert got == want, tag
    assert rows > 0  # windows waiting for their labels met


def test_no_shortcut_for_another_encode_or_other_fields() -> None:
    ts = schema()["PendingLabels"]
    assert fast_writer("PendingLabels", dataclasses.replace(ts, encode=lambda q: {})) is None
    fewer = dict(list(ts.fields.items())[:-1])
    assert fast_writer("PendingLabels", dataclasses.replace(ts, fields=fewer)) is None
    assert fast_writer("Troughs", schema()["Troughs"]) is None  # no custom encode


def test_a_shortcut_with_a_field_missing_gives_none() -> None:
    class Bare:
        items: list[Any] = []

    fast = fast_writer("PendingLabels", schema()["PendingLabels"])
    assert fast is not None and fast(Bare()) is None


def test_unpack_reads_the_rows_as_before() -> None:
    rng = random.Random(7)
    names = [f"m{i}" for i in range(12)]
    for _ in range(300):
        base = {n: rng.choice([rng.gauss(0, 1e3), 0.0, -0.0, float("inf"), 1e-310])
                for n in rng.sample(names, rng.randint(0, 8))}
        states = {n: rng.randint(0, 255) for n in rng.sample(names, rng.randint(0, 8))}
        end = rng.choice([0, -1, 2**63 - 1, -(2**63), rng.randint(0, 2**45)])
        row = pack(end, base, states)
        assert type(row) is bytes
        got, old = unpack(row), _old_unpack(row)
        assert got == old == (end, base, states)
        assert [list(map(type, d.values())) for d in got[1:]] == [
            list(map(type, d.values())) for d in old[1:]]
        assert list(got[1]) == list(base) and list(got[2]) == list(states)  # key order
    nan = unpack(pack(5, {"breach": float("nan")}, {}))[1]["breach"]
    assert nan != nan
    odd = pack(1, {"breach": 1}, {"cpu.util": 300})  # kept as dicts: copies
    assert type(odd) is tuple and unpack(odd) == _old_unpack(odd)
