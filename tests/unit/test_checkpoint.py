"""Checkpoints without a broker: the framing, when a component is due, restore + replay of the
gap (against an in-memory store), and the outbox that orders acks behind outputs."""

from __future__ import annotations

import asyncio
import struct
from dataclasses import replace
from typing import Any

import orjson
import pytest

from processors.pipeline import Pipeline, PipelineConfig
from schemas.codec import Codec
from schemas.errors import ContractError
from streams.runtime.checkpoint import (
    MAGIC,
    VERSION,
    Checkpoint,
    CheckpointedPipeline,
    CheckpointPolicy,
    decode,
    normal_key,
)
from streams.runtime.outbox import Outbox
from streams.runtime.restore import Restorer
from streams.sim.examples import fleet_samples

BASE_MS = 1_767_571_200_000
CONFIG = PipelineConfig()
codec = Codec()


def ck(**changes: Any) -> Checkpoint:
    base = Checkpoint("web-1", "forewarn.metrics", 2, 1234, BASE_MS, normal_key(CONFIG.state_key()),
                      b"\x00state\xff" * 10, written_ms=5)
    return replace(base, **changes)


def sample(component: str, i: int, cpu: float | None = None) -> dict[str, Any]:
    return {"component": component, "host": component, "ts": BASE_MS + i * 10_000,
            "metrics": {"cpu.util": 0.3 + i / 500 if cpu is None else cpu, "mem.used_pct": 40.0},
            "tags": {}}


def feed(pipe: CheckpointedPipeline, partition: int, offset: int, s: dict[str, Any]) -> list:
    pipe.at(partition, offset)
    return pipe.ingest(s).risk


# -- framing -----------------------------------------------------------------------------------

def test_round_trip_and_layout() -> None:
    value = ck().encode()
    magic, version, size = struct.unpack_from(">4sBI", value)
    assert (magic, version) == (MAGIC, VERSION) == (b"FWCP", 1)
    header = orjson.loads(value[9 : 9 + size])
    assert header["offset"] == 1234 and header["partition"] == 2 and header["component"] == "web-1"
    assert value[9 + size :] == ck().blob
    assert decode(value) == ck()


def test_readers_ignore_header_fields_they_do_not_know() -> None:
    value = ck().encode()
    size = struct.unpack_from(">I", value, 5)[0]
    header = orjson.loads(value[9 : 9 + size]) | {"added_later": [1, 2]}
    raw = orjson.dumps(header)
    assert decode(struct.pack(">4sBI", MAGIC, 1, len(raw)) + raw + ck().blob) == ck()


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda v: v[:6], "truncated"),
        (lambda v: b"XXXX" + v[4:], "not a forewarn checkpoint"),
        (lambda v: v[:4] + bytes([VERSION + 1]) + v[5:], "newer"),
        (lambda v: v[:-1] + bytes([v[-1] ^ 1]), "CRC"),
        (lambda v: v[:9] + b"x" + v[10:], "unreadable header"),
    ],
)
def test_damaged_values_raise_contract_errors(mangle: Any, message: str) -> None:
    with pytest.raises(ContractError, match=message):
        decode(mangle(ck().encode()), "forewarn.checkpoints[0]@7")


def test_state_keys_compare_as_they_read_back() -> None:
    assert normal_key(CONFIG.state_key())["anomaly"] == list(CONFIG.state_key()["anomaly"])


# -- when a component is due -------------------------------------------------------------------

def test_due_after_n_messages_or_t_seconds_of_event_time() -> None:
    pipe = CheckpointedPipeline(CONFIG, "m", CheckpointPolicy(every_messages=4, every_event_s=60))
    due: dict[str, list[int]] = {"a": [], "b": []}
    for i in range(10):
        for comp, s in (("a", sample("a", i * 3)), ("b", sample("b", i))):  # a: 30 s apart
            feed(pipe, 0, 2 * i + (comp == "b"), s)
            for c in pipe.due():
                due[c].append(i)
                pipe.checkpoint(c, now_ms=0)
    # each at first sight (#12: a kill -9 before the periodic one lost its open window), then
    # a: every 60 s, b: every 4 messages
    assert due == {"a": [0, 2, 4, 6, 8], "b": [0, 4, 8]}


def test_checkpoint_covers_the_partition_position_and_unchanged_state_is_reframed() -> None:
    pipe = CheckpointedPipeline(CONFIG, "m")
    for off in range(5):
        feed(pipe, 1, off, sample("a", off))
    got = pipe.checkpoint("a", now_ms=9)
    assert got is not None and got[0] == 1
    first = decode(got[1])
    assert (first.offset, first.watermark_ms, first.partition) == (5, BASE_MS + 40_000, 1)
    assert first.state_key == pipe.state_key
    for off in range(5, 9):
        feed(pipe, 1, off, sample("other", off))
    assert "a" in pipe.behind(0)
    again = pipe.checkpoint("a")
    assert again is not None
    second = decode(again[1])
    assert second.offset == 9 and second.blob == first.blob  # no new snapshot
    assert "a" not in pipe.behind(0)


def test_a_silent_component_is_rewritten_once_its_partition_moves_on() -> None:
    pipe = CheckpointedPipeline(CONFIG, "m", CheckpointPolicy(every_messages=10**6,
                                                              every_event_s=10**6, max_replay=8))
    feed(pipe, 0, 0, sample("quiet", 0))
    pipe.checkpoint("quiet", now_ms=0)
    due_at = []
    for off in range(1, 30):
        feed(pipe, 0, off, sample("busy", off))
        if "quiet" in pipe.due():
            due_at.append(off)
            pipe.checkpoint("quiet", now_ms=0)
    gaps = [b - a for a, b in zip(due_at, due_at[1:], strict=False)]
    assert due_at and due_at[0] <= 12 and max(gaps) <= 10


# -- restore and replay --------------------------------------------------------------------------

class Msg:
    def __init__(self, offset: int, value: bytes) -> None:
        self._offset, self._value = offset, value

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes:
        return self._value


class MemoryStore:
    """The four calls the Restorer makes, over in-memory lists (a partition is a list)."""

    source = "m"

    def __init__(self) -> None:
        self.log: dict[int, list[bytes]] = {0: [], 1: []}
        self.checkpoints: list[tuple[Checkpoint, bytes]] = []
        self.commits: dict[int, int] = {}

    def partitions(self) -> int:
        return 2

    def committed(self, partitions: set[int]) -> dict[int, int]:
        return {p: self.commits.get(p, 0) for p in partitions}

    def latest(self, partition: int, n: int) -> dict[str, tuple[Checkpoint, bytes]]:
        return {c.component: (c, v) for c, v in self.checkpoints if c.partition == partition}

    def messages(self, partition: int, start: int, end: int) -> list[Msg]:
        return [Msg(o, v) for o, v in enumerate(self.log[partition]) if start <= o < end]


def run(pipe: CheckpointedPipeline, store: MemoryStore, partition: int, start: int, end: int
        ) -> list[dict]:
    risk = []
    for off in range(start, end):
        pipe.at(partition, off)
        _, rec = codec.decode(store.log[partition][off])
        risk += pipe.ingest(rec).risk
    return risk


def test_moved_partition_restores_replays_the_gap_silently_and_continues_exactly() -> None:
    store = MemoryStore()
    comps = ["a", "b", "c"]
    for i in range(120):
        for c in comps:
            store.log[0].append(codec.encode("MetricSample", sample(c, i)))
    end = len(store.log[0])
    want = {key(r): r for r in run(CheckpointedPipeline(CONFIG, "m"), store, 0, 0, end)}

    old = CheckpointedPipeline(CONFIG, "m")  # checkpoints b at 90, a at 150, c at 200 ...
    emitted = []
    for comp, start, upto in (("b", 0, 90), ("a", 90, 150), ("c", 150, 200)):
        emitted += run(old, store, 0, start, upto)
        value = old.checkpoint(comp, 0)[1]
        store.checkpoints.append((decode(value), value))
    store.commits[0] = 180  # ... and dies having committed 180

    new = CheckpointedPipeline(CONFIG, "m")
    stats = Restorer(new, store, codec).sync({0})  # type: ignore[arg-type]
    assert (stats.restored, stats.replayed) == (3, 90)  # from b's offset 90 up to 180
    assert new.positions[0] == 180 and new.skip_below == {"c": 200}
    again = run(new, store, 0, 180, end)  # Faust redelivers from the committed offset
    assert all(local(want[key(r)]) == local(r) for r in emitted + again)  # duplicates agree
    assert {key(r) for r in emitted + again} == set(want)  # and nothing is missing


def key(r: dict[str, Any]) -> tuple[str, int]:
    return r["component"], r["ts"]


def local(r: dict[str, Any]) -> dict[str, Any]:
    """What the component's own state decides (risk also hangs on the fleet-wide learner)."""
    return {k: r[k] for k in ("ts", "anomaly", "breach", "forecasts")} | {
        "samples_seen": r["model"]["samples_seen"], "warm": r["model"]["warm"]}


def test_kept_partitions_keep_their_state_and_lost_ones_are_dropped() -> None:
    store = MemoryStore()
    pipe = CheckpointedPipeline(CONFIG, "m")
    for off in range(6):
        feed(pipe, 0, off, sample("zero", off))
        feed(pipe, 1, off, sample("one", off))
    store.commits = {0: 6, 1: 6}
    stats = Restorer(pipe, store, codec).sync({0})  # type: ignore[arg-type]
    assert (stats.kept, stats.dropped, stats.restored) == (1, 1, 0)
    assert pipe.components() == ["zero"] and list(pipe.marks) == ["zero"]


def test_a_checkpoint_made_under_other_parameters_is_not_restored() -> None:
    other = PipelineConfig(window_s=30)
    old = CheckpointedPipeline(other, "m")
    feed(old, 0, 0, sample("a", 0))
    value = old.checkpoint("a", 0)[1]
    new = CheckpointedPipeline(CONFIG, "m")
    assert not new.restore_checkpoint(decode(value), value)
    assert new.components() == [] and not new.marks


# -- state size ----------------------------------------------------------------------------------

def test_a_warm_twelve_metric_component_checkpoints_in_under_50_kb() -> None:
    pipe = CheckpointedPipeline(CONFIG, "m")
    for off, s in enumerate(fleet_samples(2160, components=1)):  # 6 hours, 10 s apart
        feed(pipe, 0, off, s)
    comp = pipe.components()[0]
    assert len(fleet_samples(1, components=1)[0]["metrics"]) == 12
    value = pipe.checkpoint(comp, 0)[1]
    assert len(value) < 50_000
    restored = Pipeline(CONFIG)
    restored.restore(comp, decode(value).blob)
    nxt = fleet_samples(2160 + 60, components=1)[2160:]
    assert [local(r) for s in nxt for r in restored.ingest(s).risk] == [
        local(r) for s in nxt for r in pipe.ingest(s).risk]


# -- outbox ----------------------------------------------------------------------------------------

def test_outbox_acks_in_order_once_outputs_are_acknowledged() -> None:
    async def scenario() -> tuple[list[str], list[BaseException]]:
        loop = asyncio.get_running_loop()
        done: list[str] = []
        errors: list[BaseException] = []
        box = Outbox(errors.append)
        f1, f2, f3 = (loop.create_future() for _ in range(3))
        box.add([f1], lambda: done.append("m1"))
        box.add([], lambda: done.append("checkpoint"))
        box.add([f2], lambda: done.append("m2"))
        box.add([f3], lambda: done.append("m3"))
        f2.set_result(None)
        await asyncio.sleep(0)
        assert done == [] and len(box) == 4  # m1's output is still in flight
        f1.set_result(None)
        await asyncio.sleep(0)
        assert done == ["m1", "checkpoint", "m2"]
        f3.set_exception(RuntimeError("broker said no"))
        await asyncio.sleep(0)
        box.add([], lambda: done.append("m4"))  # nothing is acked after a failure
        await box.room(10)
        return done, errors

    done, errors = asyncio.run(scenario())
    assert done == ["m1", "checkpoint", "m2"]
    assert [str(e) for e in errors] == ["broker said no"]
