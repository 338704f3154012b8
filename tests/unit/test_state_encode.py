"""The state writers (VERSION 4, processors.statewrite; VERSION 3, processors.statewrite3, kept
for the tests that write it): packers per thread, reset after every pack; a type's writer
writes what the checked path writes."""

from __future__ import annotations

import random
import threading
from typing import Any
from unittest.mock import patch

import pytest

from processors import stateschema, statewrite, statewrite3
from processors.pipeline import Pipeline, PipelineConfig
from processors.univariate import ContextNovelty
from schemas.errors import ContractError


def _model(n: int) -> ContextNovelty:
    m = ContextNovelty(warm=20)
    for i in range(n):
        m.step(float(i % 9))
    return m


WRITERS = {"v4": statewrite, "v3": statewrite3}


@pytest.mark.parametrize("version", sorted(WRITERS))
def test_a_refused_object_leaves_the_next_snapshot_as_it_would_be(version: str) -> None:
    w = WRITERS[version]
    m = _model(80)
    blob = w.encode({"a": [m]})
    with pytest.raises(ContractError, match="not in the state format"):
        w.encode({"a": [m, [object()]]})  # fails deep inside, packers mid-way
    assert w.encode({"a": [m]}) == blob


@pytest.mark.parametrize("version", sorted(WRITERS))
def test_threads_writing_at_once_write_what_one_writes(version: str) -> None:
    w = WRITERS[version]
    models = [_model(40 + 7 * i) for i in range(6)]
    want = [w.encode(m) for m in models]
    got: dict[int, list[bytes]] = {}

    def write(k: int) -> None:
        got[k] = [w.encode(m) for _ in range(30) for m in models][-len(models):]

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(v == want for v in got.values()) and len(got) == 4


# -- the writers of s19: the checked path's bytes, by one function per type ----------------------

CONFIGS = {
    "novelty": PipelineConfig(anomaly_warm=50),
    "hst": PipelineConfig(anomaly_model="hst", forecaster="trend"),
    "joint": PipelineConfig(anomaly_model="joint"),
    "novelty-coarse": PipelineConfig(anomaly_warm=50, anomaly_coarse=4),
}


def _checked_path(w: Any, value: Any) -> bytes:
    """``encode(value)`` as a process writes its first object of each type: every object by
    the checked path (schema lookups, the attribute check, the keys compared)."""
    checked = set(stateschema._CHECKED)
    stateschema._CHECKED.clear()
    try:
        with patch.object(w, "_WRITERS", _NoWriters()):
            out: bytes = w.encode(value)
            return out
    finally:
        stateschema._CHECKED.update(checked)


class _NoWriters(dict[type, Any]):
    """A writers' table that never holds one: every object takes the checked path."""

    def __setitem__(self, key: type, value: Any) -> None:
        """Keeps nothing: the writer made for ``key`` is dropped."""


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_the_writers_write_what_the_checked_path_writes_after_random_changes(name: str) -> None:
    """Both versions' writers (VERSION 3 kept for the tests that write it)."""
    rng = random.Random(name)
    p = Pipeline(CONFIGS[name])
    ts = 0
    for _ in range(6):  # learn a random stretch, then write: each time the same bytes
        for _ in range(rng.randrange(20, 400)):
            ts += 10_000
            metrics = {f"m{k}": rng.gauss(50.0, 5.0) + (ts / 1e5 if k == 0 else 0.0)
                       for k in range(rng.randrange(2, 5))}
            p.ingest({"component": "db-1", "host": "h", "ts": ts, "tags": {},
                      "metrics": metrics})
        if rng.random() < 0.5:
            p.on_action("db-1", ts)
        fast = p.snapshot("db-1")
        assert statewrite._WRITERS  # the writers were used
        state = {"component": "db-1", "key": p.config.state_key(),
                 "state": p._states["db-1"], "fleet": p.fleet}
        assert fast == _checked_path(statewrite, state) == statewrite.encode(state)
        v3 = statewrite3.encode(state)
        assert statewrite3._WRITERS and v3 == _checked_path(statewrite3, state)


@pytest.mark.parametrize("version", sorted(WRITERS))
def test_a_field_gone_after_the_first_object_is_still_named(version: str) -> None:
    w = WRITERS[version]
    w.encode(_model(30))  # the type's writer is made
    m = _model(30)
    del m.lo  # a slot no longer set
    with pytest.raises(ContractError, match="lacks \\['lo'\\]"):
        w.encode(m)
    assert w.encode(_model(30)) == w.encode(_model(30))
