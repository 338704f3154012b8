"""The state writer's packers (s17): one per thread and depth, reset after every pack."""

from __future__ import annotations

import threading

import pytest

from processors import stateformat
from processors.univariate import ContextNovelty
from schemas.errors import ContractError


def _model(n: int) -> ContextNovelty:
    m = ContextNovelty(warm=20)
    for i in range(n):
        m.step(float(i % 9))
    return m


def test_a_refused_object_leaves_the_next_snapshot_as_it_would_be() -> None:
    m = _model(80)
    blob = stateformat.encode({"a": [m]})
    with pytest.raises(ContractError, match="not in the state format"):
        stateformat.encode({"a": [m, [object()]]})  # fails deep inside, packers mid-way
    assert stateformat.encode({"a": [m]}) == blob


def test_threads_writing_at_once_write_what_one_writes() -> None:
    models = [_model(40 + 7 * i) for i in range(6)]
    want = [stateformat.encode(m) for m in models]
    got: dict[int, list[bytes]] = {}

    def write(k: int) -> None:
        got[k] = [stateformat.encode(m) for _ in range(30) for m in models][-len(models):]

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(v == want for v in got.values()) and len(got) == 4
