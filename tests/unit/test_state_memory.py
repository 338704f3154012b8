"""A restored component state is as compact as a live one (issue #14): one object per equal
number, typed arrays for the forecasters' points, and those arrays refuse what is not a
number."""

from __future__ import annotations

import math
from array import array
from collections import deque
from typing import Any

import msgpack
import pytest

from processors import stateformat, statewrite, statewrite3
from processors.calibration import _priors_combiner
from processors.forecast import TrendForecaster
from processors.pipeline import Pipeline, PipelineConfig
from processors.stateschema import _set_attributes
from schemas.errors import ContractError
from tests.unit.test_state_format import samples


def numbers(root: Any) -> list[float]:
    """Every float object held in ``root``'s state graph (fields, maps, sequences; each
    object once)."""
    seen, stack, out = set(), [root], []
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, tuple) and hasattr(o, "_fields"):
            continue  # shared parameters (processors.sharedparams): held once, not per state
        if o is _priors_combiner("onset") or o is _priors_combiner("fail"):
            continue  # the combiner at the priors every learner at lr 0 shares (s22)
        if type(o) is float:
            out.append(o)
        elif isinstance(o, dict):
            stack += [*o.keys(), *o.values()]
        elif isinstance(o, (list, tuple, deque)):
            stack += list(o)
        elif type(o).__module__.startswith("processors."):
            stack += list(_set_attributes(o).values())  # slots and dict (#14)
    return out


def warm_state() -> tuple[Pipeline, bytes]:
    p = Pipeline(PipelineConfig(anomaly_warm=50))
    for s in samples("db-1", 900, metrics=3):
        p.ingest(s)
    return p, p.snapshot("db-1")


def test_a_restored_state_holds_one_object_per_equal_number() -> None:
    _, blob = warm_state()
    state = stateformat.decode(blob)["state"]
    floats = [v for v in numbers(state) if v != 0.0 and not math.isnan(v)]
    assert len(floats) > 50  # the Bayes net's counts are array('d') now, not floats (#14)
    assert len(floats) == len(set(floats))  # msgpack alone made one object per value read
    for o in state.outlooks.values():
        f = o.forecaster
        assert type(f.ts_ms) is array and f.ts_ms.typecode == "q"
        assert type(f.values) is array and f.values.typecode == "d"


def test_zeros_keep_their_sign_and_ints_stay_ints() -> None:
    memo: tuple[dict[float, float], dict[int, int]] = ({}, {})
    got = stateformat._interned([0.0, -0.0, 1.0, 1, True, 1.0, 10**6, 10**6], memo)
    assert [type(v) for v in got] == [float, float, float, int, bool, float, int, int]
    assert math.copysign(1.0, got[1]) == -1.0 and got[2] is got[5] and got[6] is got[7]


def test_the_snapshot_bytes_still_write_the_points_as_lists() -> None:
    p, blob = warm_state()
    again = Pipeline(PipelineConfig(anomaly_warm=50))
    again.restore("db-1", blob)
    assert again.snapshot("db-1") == blob  # arrays written as the lists they were before
    f = TrendForecaster()
    f.learn_one(0, 1.5)
    packed = statewrite3._pack(f.ts_ms)  # VERSION 3
    assert msgpack.unpackb(packed) == [0]
    assert statewrite._default(statewrite._Snapshot(), f.ts_ms) == [0]  # VERSION 4


@pytest.mark.parametrize("bad", [["x"], [1.5], [2**70]])
def test_a_forged_time_list_is_refused_not_coerced(bad: list[Any]) -> None:
    with pytest.raises(ContractError, match="TrendForecaster.ts_ms"):
        stateformat._typed("TrendForecaster", "ts_ms", "q", bad)
