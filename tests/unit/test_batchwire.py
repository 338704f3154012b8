"""The MetricBatch column fast path reads what fastavro reads, or declines."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from schemas.batchwire import read_columns
from schemas.codec import Codec
from streams.sim.examples import fleet_samples
from streams.sim.simulator import to_batches


def _messages(codec: Codec, n: int = 3_000) -> list[bytes]:
    """The bench's messages: 30-sample MetricBatches of the simulated fleet."""
    return [codec.encode("MetricBatch", b) for b in to_batches(fleet_samples(n), 30)]


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal records, every float to its last bit (repr tells -0.0 from 0.0)."""
    return repr(a) == repr(b)


def test_bench_messages_read_as_fastavro_reads_them() -> None:
    codec = Codec()
    msgs = _messages(codec)
    assert len(msgs) == 100
    for m in msgs:
        cols = read_columns(codec, m)
        assert cols is not None
        assert cols.values.shape == (30, 12)
        assert _same(cols.to_record(), codec.decode(m, ("MetricBatch",))[1])


def _batch(points: list[dict[str, Any]], tags: dict[str, str] | None = None) -> dict[str, Any]:
    return {"component": "db-ü", "host": "h", "tags": tags or {}, "points": points}


def test_odd_values_and_tags_bit_for_bit() -> None:
    codec = Codec()
    vals = [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, 1.7976931348623157e308, -1.5]
    rec = _batch([{"ts": -(2**40) - i, "metrics": {"ä": v, "b" * 200: -v}}
                  for i, v in enumerate(vals)], {"a": "1", "ü": "2", "c": ""})
    data = codec.encode("MetricBatch", rec)
    cols = read_columns(codec, data)
    assert cols is not None and cols.ts.tolist() == [-(2**40) - i for i in range(len(vals))]
    got, want = cols.to_record(), codec.decode(data, ("MetricBatch",))[1]
    assert repr(got) == repr(want)
    assert [math.copysign(1, p["metrics"]["ä"]) for p in got["points"]][:2] == [1.0, -1.0]


@pytest.mark.parametrize("ts", [[0, 1, -1], [63, -64, 0], [2**55, 2**55 + 1, -(2**55) - 1],
                                [2**62 - 1, -(2**62), 2**62 - 7], [2**62, 2**63 - 1, -(2**63)]])
def test_timestamps_of_every_varint_length(ts: list[int]) -> None:
    """1 to 10 varint bytes (9 and 10: the longest times), twice over for the cached masks."""
    codec = Codec()
    for _ in range(2):
        rec = _batch([{"ts": t, "metrics": {"cpu": 1.0, "mem": -0.0}} for t in ts])
        data = codec.encode("MetricBatch", rec)
        cols = read_columns(codec, data)
        assert cols is not None and cols.ts.tolist() == ts
        assert _same(cols.to_record(), codec.decode(data, ("MetricBatch",))[1])


def test_other_layouts_decline() -> None:
    codec = Codec()
    base = [{"ts": 1_700_000_000_000 + i, "metrics": {"cpu": 1.0, "mem": 2.0}} for i in range(3)]
    other_keys = [*base, {"ts": 1_700_000_000_009, "metrics": {"cpu": 1.0, "dsk": 2.0}}]
    other_order = [*base, {"ts": 1_700_000_000_009, "metrics": {"mem": 2.0, "cpu": 1.0}}]
    fewer = [*base, {"ts": 1_700_000_000_009, "metrics": {"cpu": 1.0}}]
    ts_len = [{"ts": 5, "metrics": {"cpu": 1.0}}, {"ts": 5_000, "metrics": {"cpu": 1.0}}]
    empty_map = [{"ts": 1, "metrics": {}}]
    for points in (other_keys, other_order, fewer, ts_len, empty_map, []):
        assert read_columns(codec, codec.encode("MetricBatch", _batch(points))) is None
    good = codec.encode("MetricBatch", _batch(base))
    assert read_columns(codec, good) is not None
    assert read_columns(codec, good[:-1]) is None
    assert read_columns(codec, good + b"\x00") is None
    assert read_columns(Codec(wire_format="json"), Codec(wire_format="json").encode(
        "MetricBatch", _batch(base))) is None
    sample = {"component": "c", "host": "h", "ts": 1, "metrics": {"cpu": 1.0}, "tags": {}}
    assert read_columns(codec, codec.encode("MetricSample", sample)) is None
    assert read_columns(codec, None) is None and read_columns(codec, b"") is None


def test_corrupted_bytes_read_as_fastavro_or_decline() -> None:
    """One byte changed anywhere: the fast path declines, or reads what fastavro reads."""
    codec = Codec()
    msg = _messages(codec, 60)[0]
    rnd = random.Random(5)
    read = 0
    for _ in range(400):
        i = rnd.randrange(10, len(msg))
        bad = msg[:i] + bytes([rnd.randrange(256)]) + msg[i + 1:]
        cols = read_columns(codec, bad)
        if cols is None:
            continue
        read += 1
        assert repr(cols.to_record()) == repr(codec.decode(bad, ("MetricBatch",))[1])
    assert 0 < read < 400  # values changed are read; layout bytes changed are declined
