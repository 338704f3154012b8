"""The compact in-memory state of #14: the same behaviour in less memory, and checkpoints
written before it still restore to the same outputs."""

from __future__ import annotations

import gc
import json
import tracemalloc
from array import array
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from processors import pendingrows, stateformat
from processors.calibration import PendingLabels
from processors.features import ACCEPTED, DUPLICATE, Windower, window_maps
from processors.pendingrows import end_of, pack, unpack
from processors.pipeline import Pipeline, PipelineConfig
from schemas.errors import ContractError
from tests.data.make_checkpoint_v2 import samples
from tests.unit.test_actsignal import OFF

DATA = Path(__file__).parents[1] / "data"
N, MORE, ACTED_MS = 2400, 300, 23_000_000  # as tests/data/make_checkpoint_v3.py wrote it


def _run(p: Pipeline, batch: list[dict[str, Any]]) -> list[str]:
    return [json.dumps([o.risk, o.health, o.rejected], sort_keys=True)
            for o in map(p.ingest, batch)]


def test_a_checkpoint_written_before_the_compact_forms_restores_to_the_same_outputs() -> None:
    """checkpoint-v3-pre14.bin was written by commit 70442cf (dict rows, list counts): restored
    now, it continues exactly as the same history replayed by this code."""
    batch = samples("db-1", N + MORE, seed=7)
    # the defaults it was written under (anomaly_hold on since s19, warn_trust 2 since s20)
    then = PipelineConfig(anomaly_hold=False, **OFF)
    live = Pipeline(then)
    _run(live, batch[:N])
    live.on_action("db-1", ACTED_MS)
    old = Pipeline(then)
    old.restore("db-1", (DATA / "checkpoint-v3-pre14.bin").read_bytes())
    st = old._states["db-1"]
    assert st.pending is not None and st.pending.items
    assert all(type(row) is bytes for row in st.pending.items)  # compacted as read
    assert all(type(t) is array for t in st.learner.bn.tables.values())  # one a node
    assert _run(old, batch[N:]) == _run(live, batch[N:])
    a, b = old._states["db-1"], live._states["db-1"]  # (fields added since read as defaults)
    assert a.pending is not None and b.pending is not None
    assert list(map(unpack, a.pending.items)) == list(map(unpack, b.pending.items))
    assert a.learner.bn.tables == b.learner.bn.tables and a.learner.labels == b.learner.labels


def test_pending_rows_give_back_what_they_were_given() -> None:
    base = {"breach": 0.125, "warn": 0.0, "fail": -0.0, "anomaly": float("inf")}
    states = {"cpu.util": 11, "context": 0}
    row = pack(60_000, base, states)
    assert type(row) is bytes and end_of(row) == 60_000
    end, x, s = unpack(row)
    assert (end, list(x.items()), list(s.items())) == (60_000, list(base.items()),
                                                       list(states.items()))
    assert str(x["fail"]) == "-0.0"  # bit for bit, the sign of zero too
    odd = pack(1, {"breach": 1}, {"cpu.util": 300})  # an int, a state past a byte: as given
    assert unpack(odd) == (1, {"breach": 1}, {"cpu.util": 300})
    assert type(unpack(odd)[1]["breach"]) is int
    shared = len(pendingrows._NAMES)
    assert end_of(pack(-2, base, states)) == -2
    assert len(pendingrows._NAMES) == shared  # the names are shared, not copied
    assert len(row) == 10 + 8 * len(base) + len(states)  # the names are not in the row
    huge = pack(2**63, base, states)  # an end past 64 bits: kept as it came
    assert type(huge) is tuple and end_of(huge) == 2**63 and unpack(huge)[1] == base


def test_pending_labels_resolve_and_take_as_before() -> None:
    q = PendingLabels(horizon_ms=120_000)
    for end in (60_000, 120_000, 180_000):
        q.add(end, {"breach": end / 1e6}, {"m": 1})
    assert q.take(120_000) == ({"breach": 0.12}, {"m": 1})
    assert q.take(120_000) is None
    assert q.resolve(now_ms=200_000, positive=True) == [
        ({"breach": 0.06}, {"m": 1}, False), ({"breach": 0.18}, {"m": 1}, True)]


def test_a_forged_pending_window_is_refused_with_a_reason(monkeypatch: Any) -> None:
    p = Pipeline(PipelineConfig())
    _run(p, samples("db-1", 600, seed=7))
    st = p._states["db-1"]
    assert st.pending is not None
    ts = stateformat.schema()["PendingLabels"]
    monkeypatch.setitem(stateformat.schema(), "PendingLabels", replace(ts, encode=None))
    st.pending.items = deque([(1, "not a map", {})])  # written as it stands: a forgery
    blob = p.snapshot("db-1")
    monkeypatch.undo()
    with pytest.raises(ContractError, match="PendingLabels.items"):
        stateformat.decode(blob)


def test_a_snapshot_leaves_the_state_as_small_as_it_was() -> None:
    """Reading fields with ``vars`` gave every state object a dict of its own for good
    (~64 bytes each, ~2 KB for this 3-metric component): a snapshot now keeps nothing."""
    p = Pipeline(PipelineConfig())
    _run(p, samples("db-1", 1200, seed=7))
    blob = p.snapshot("db-1")  # the first of each type is checked against the schema
    twin = Pipeline(PipelineConfig())
    twin.restore("db-1", blob)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        assert twin.snapshot("db-1") == blob
        gc.collect()
        kept = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename")
                   if "processors" in s.traceback[0].filename)
    finally:
        tracemalloc.stop()
    assert kept < 256


def test_a_worker_lets_go_of_a_checkpoint_once_its_state_moves_on() -> None:
    """``Mark.value`` (the last checkpoint, ~8 KB) is kept only while the state is unchanged
    (to re-send it with a newer offset); once changed it is b"": not new, not kept."""
    from streams.runtime.checkpoint import CheckpointedPipeline, CheckpointPolicy
    from streams.runtime.checkpoint import decode as decode_checkpoint

    pipe = CheckpointedPipeline(PipelineConfig(), "forewarn.metrics",
                                CheckpointPolicy(every_messages=1000, every_event_s=10**6))
    batch = samples("db-1", 3, seed=7)
    pipe.at(0, 0)
    pipe.ingest(batch[0])
    assert pipe.due() == ["db-1"]  # new: checkpointed at once
    first = pipe.checkpoint("db-1", now_ms=0)
    assert first is not None and pipe.marks["db-1"].value == first[1]
    pipe.at(0, 1)
    again = pipe.checkpoint("db-1", now_ms=0)  # unchanged: the kept one, a newer offset
    assert again is not None and decode_checkpoint(again[1]).blob == decode_checkpoint(
        first[1]).blob
    pipe.at(0, 2)
    pipe.ingest(batch[1])
    assert pipe.marks["db-1"].value == b"" and pipe.due() == []  # stale, dropped; not new
    third = pipe.checkpoint("db-1", now_ms=0)
    assert third is not None and decode_checkpoint(third[1]).offset == 3
    assert decode_checkpoint(third[1]).blob == pipe.snapshot("db-1")


def test_open_windows_are_rows_and_snapshot_as_the_maps_they_were() -> None:
    """In-order samples of the same metrics make an open window of rows: the metric names
    once (shared by every window with those names) and one array('d'), no dict, no float or
    int objects; the snapshot writes the ts -> value maps of before and reads them back into
    rows (the bytes equal those of the code before: checked on the fleet replay)."""
    p = Pipeline(PipelineConfig())
    _run(p, samples("db-1", 603, seed=7))  # the last window is open, 3 samples in
    windows = p._states["db-1"].windower.state.open
    assert windows and all(type(w) is tuple and type(w[1]) is array and w[1].typecode == "d"
                           and len(w[1]) % (len(w[0]) + 1) == 0 for w in windows.values())
    q = Pipeline(PipelineConfig())
    _run(q, samples("db-2", 603, seed=8))
    names = {id(w[0]) for st in (p, q) for c in st.components()
             for w in st._states[c].windower.state.open.values()}
    assert len(names) == 1  # one tuple of names for all
    twin = Pipeline(PipelineConfig())
    twin.restore("db-1", p.snapshot("db-1"))
    assert twin.snapshot("db-1") == p.snapshot("db-1")
    got = twin._states["db-1"].windower.state.open
    assert all(type(w) is tuple for w in got.values())
    assert {s: window_maps(w) for s, w in got.items()} == {
        s: window_maps(w) for s, w in windows.items()}
    old = (DATA / "checkpoint-v3-pre14.bin").read_bytes()
    back = Pipeline(PipelineConfig(anomaly_hold=False))  # written before s19's hold default
    back.restore("db-1", old)
    assert back._states["db-1"].windower.state.open  # an open window, read into rows


def test_a_window_takes_each_ts_once_per_metric_and_a_value_equal_to_a_ts_is_a_value() -> None:
    w = Windower(window_s=60, lateness_s=30)
    assert w.add(10_000, {"a": 20_000.0})[0] == ACCEPTED
    assert w.add(20_000, {"a": 1.0})[0] == ACCEPTED  # 20,000 is a value held, not a ts
    assert w.add(10_000, {"a": 5.0})[0] == DUPLICATE
    assert w.add(10_000, {"b": 5.0}) == (ACCEPTED, {"b": 5.0})  # Telegraf: another line
    assert type(w.state.open[0]) is dict  # a sample of other metrics: series from there on
    assert window_maps(w.state.open[0]) == {"a": {10_000: 20_000.0, 20_000: 1.0},
                                            "b": {10_000: 5.0}}
    assert w.add(30_000, {"b": 6.0, "a": 2.0})[0] == ACCEPTED
    assert w.add(5_000, {"b": 7.0})[0] == ACCEPTED
    assert list(window_maps(w.state.open[0])["b"]) == [10_000, 30_000, 5_000]  # as they came
    (closed,) = w.flush()
    assert closed.n_samples == 4 and closed.features["a"].mean == 20_003.0 / 3


def test_rows_turn_into_series_when_a_sample_comes_out_of_order() -> None:
    w = Windower(window_s=60, lateness_s=30)
    for ts in (10_000, 20_000):
        assert w.add(ts, {"a": ts / 1e4, "b": -ts / 1e4})[0] == ACCEPTED
    assert type(w.state.open[0]) is tuple
    assert w.add(15_000, {"a": 1.5, "b": -1.5})[0] == ACCEPTED  # earlier than the last row
    assert type(w.state.open[0]) is dict
    assert w.add(20_000, {"a": 9.0, "b": 9.0})[0] == DUPLICATE
    assert window_maps(w.state.open[0]) == {"a": {10_000: 1.0, 20_000: 2.0, 15_000: 1.5},
                                            "b": {10_000: -1.0, 20_000: -2.0, 15_000: -1.5}}


def test_a_forged_open_window_is_refused_with_a_reason(monkeypatch: Any) -> None:
    p = Pipeline(PipelineConfig())
    _run(p, samples("db-1", 603, seed=7))
    st = p._states["db-1"].windower.state
    ts = stateformat.schema()["WindowState"]
    monkeypatch.setitem(stateformat.schema(), "WindowState", replace(ts, encode=None))
    st.open = {0: {"cpu.util": {"x": 1.0}}}  # written as it stands: a forgery
    blob = p.snapshot("db-1")
    monkeypatch.undo()
    with pytest.raises(ContractError, match="WindowState.open"):
        stateformat.decode(blob)


def test_equal_rule_statuses_are_one_dict_for_every_component_live_or_restored() -> None:
    p = Pipeline(PipelineConfig())
    _run(p, samples("db-1", 600, seed=7))
    _run(p, samples("db-2", 600, seed=7))
    a, b = p._states["db-1"], p._states["db-2"]
    assert a.last_status and a.last_status == b.last_status
    assert a.last_status is b.last_status  # shared, not one copy a component
    twin = Pipeline(PipelineConfig())
    blob = p.snapshot("db-1")
    twin.restore("db-1", blob)
    assert twin._states["db-1"].last_status is a.last_status
    assert twin.snapshot("db-1") == blob  # written as the dicts they are
