"""A round of checkpoints with the key and the fleet's model packed once (s31,
``statewrite.Shared``, ``CheckpointedPipeline.checkpoints``): the same bytes as one snapshot at
a time, whatever types each snapshot met first."""

from __future__ import annotations

import pytest

from processors import statewrite
from processors.componentstate import shared, shared_snapshot, snapshot
from processors.pipeline import Pipeline
from schemas.errors import ContractError
from streams.runtime.checkpoint import CheckpointedPipeline
from tests.unit.test_state_format import CONFIGS, _run, samples


def _fed(config_name: str, n: int, metrics: int) -> Pipeline:
    p = Pipeline(CONFIGS[config_name])
    _run(p, samples("db-1", n, metrics))
    return p


def test_shared_snapshots_are_the_snapshots_byte_for_byte_across_type_orders() -> None:
    """States of other configurations (their detectors and forecasters put other types first
    in the table) and ages (a cold one holds fewer types) under one fleet model and key:
    each cache entry is keyed by the marks met before, so every snapshot is as written alone."""
    fleet_of = _fed("records", 400, 3)
    key, fleet = fleet_of.config.state_key(), fleet_of.fleet
    states = [(name, n, _fed(name, n, metrics)._states["db-1"])
              for name, n, metrics in [("novelty", 400, 2), ("hst", 300, 3), ("joint", 300, 3),
                                       ("novelty", 3, 1), ("records", 400, 3), ("hst", 2, 2),
                                       ("novelty", 400, 2)]]
    common = shared(key, fleet)
    for name, n, st in states:
        assert shared_snapshot("db-1", st, common) == snapshot("db-1", key, st, fleet), (name, n)
    assert len(common[0].packed) == 1  # the key holds no state object: one entry
    assert len(common[1].packed) >= 3  # the fleet under several tables (not one reused)
    for name, n, st in states:  # from the cache now, table entries added again included
        assert shared_snapshot("db-1", st, common) == snapshot("db-1", key, st, fleet), (name, n)


def test_a_shared_value_whose_types_are_new_to_the_table_adds_them_again() -> None:
    st = _fed("novelty", 300, 2)._states["db-1"]
    value = _fed("records", 300, 3).fleet
    one = statewrite.Shared(value)
    for first in (1, st, 1, None, st):  # the shared value first to meet its types, then not
        got = statewrite.encode_map({"x": first, "y": one})
        assert got == statewrite.encode({"x": first, "y": value})
    assert len(one.packed) == 2 and any(added for _, added in one.packed.values())


def test_encode_map_takes_only_a_dict() -> None:
    # interpreted, its own check; compiled, mypyc's at the call (a TypeError)
    with pytest.raises((ContractError, TypeError), match="dict"):
        statewrite.encode_map([1, 2])  # type: ignore[arg-type]


def test_a_round_of_checkpoints_is_checkpoint_by_checkpoint() -> None:
    """``checkpoints`` against ``checkpoint`` one at a time on a twin: the same values and
    bookkeeping, the unchanged and the stateless included."""
    pipes = [CheckpointedPipeline(CONFIGS["records"], "m") for _ in range(2)]
    feeds = {c: samples(c, 240, 2 + i % 2, seed=i) for i, c in enumerate(["a", "b", "c"])}
    for pipe in pipes:
        for off in range(240):
            for c, batch in feeds.items():
                pipe.at(0, 3 * off + ord(c))
                pipe.ingest(batch[off])
        pipe.at(0, 999)
        pipe.ingest({"component": "bad", "ts": "x"})  # a mark, no state
    comps = ["a", "bad", "b", "missing", "c"]
    alone = [pipes[0].checkpoint(c, now_ms=0) for c in comps]
    assert pipes[1].checkpoints(comps, 0) == alone
    assert alone[1] is None and alone[3] is None and alone[0] is not None
    assert pipes[1].checkpoints(comps, 0) == [pipes[0].checkpoint(c, now_ms=0) for c in comps]
