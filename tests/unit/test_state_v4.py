"""State format VERSION 4 (s27, processors/statewrite.py): the type table and marks, forged
and damaged snapshots refused with one line, the component then starting cold."""

from __future__ import annotations

import logging
import zlib
from typing import Any

import msgpack
import pytest

from processors import stateformat
from processors.pipeline import Pipeline, PipelineConfig
from schemas.errors import ContractError
from tests.unit.test_state_format import _run, samples


def _raw(blob: bytes) -> tuple[list[Any], bytes]:
    """A VERSION 4 snapshot's table and the packed value after it."""
    raw = zlib.decompress(blob[4:])
    unpacker = msgpack.Unpacker(strict_map_key=False)
    unpacker.feed(raw)
    table = unpacker.unpack()
    return table, raw[unpacker.tell():]


def _forge(table: Any, value: Any, tail: bytes = b"") -> bytes:
    raw = msgpack.packb(table, use_bin_type=True) + msgpack.packb(value, use_bin_type=True)
    return stateformat.MAGIC + bytes([4]) + zlib.compress(raw + tail)


def _obj(index: int, *values: Any) -> list[Any]:
    return [msgpack.ExtType(1, bytes([index])), *values]


@pytest.fixture(scope="module")
def good() -> bytes:
    p = Pipeline(PipelineConfig())
    _run(p, samples("db-1", 300))
    return p.snapshot("db-1")


def test_the_table_names_each_type_once_with_the_schemas_fields(good: bytes) -> None:
    table, _ = _raw(good)
    tags = [tag for tag, _ in table]
    assert len(tags) == len(set(tags)) and "ComponentState" in tags
    schema = stateformat.schema()
    assert all(names == list(schema[tag].fields) for tag, names in table)
    assert stateformat.decode(good)["component"] == "db-1"


def test_forged_version_4_snapshots_are_refused_with_what_is_wrong(good: bytes) -> None:
    restorer = Pipeline(PipelineConfig())
    suppressor = [["Suppressor", ["rest", "alarm", "t", "t_alarm"]]]
    cases = {
        "unknown type 'os.system'": _forge([["os.system", ["cmd"]]],
                                           {"state": _obj(0, "touch x")}),
        "Suppressor.rest is a str": _forge(suppressor, {"state": _obj(0, "x", 0.5, 0, None)}),
        "type 3 is not in the table": _forge(suppressor, {"state": _obj(3, 1, 0.5, 0, None)}),
        "Suppressor with 3 values for 4 fields": _forge(suppressor,
                                                        {"state": _obj(0, 1, 0.5, 0)}),
        "marks out of place": _forge([], {"state": [1, msgpack.ExtType(2, b"")]}),
        "a malformed mark": _forge([], {"state": [msgpack.ExtType(9, b"")]}),
        "type table": _forge({"Suppressor": 1}, {}),
        "extra data": _forge([], {}, tail=b"\x01"),
    }
    for message, blob in cases.items():
        with pytest.raises(ContractError, match=message):
            restorer.restore("db-1", blob)
    restorer.restore("db-1", good)  # after all the refusals, the real one still restores


def test_a_truncated_or_damaged_snapshot_is_one_contract_error(good: bytes) -> None:
    cuts = [good[:n] for n in (5, 40, len(good) // 2, len(good) - 1)]
    raw = bytearray(zlib.decompress(good[4:]))
    flips = []
    for at in range(7, len(raw), max(1, len(raw) // 40)):
        bad = bytearray(raw)
        bad[at] ^= 0x5A
        flips.append(stateformat.MAGIC + bytes([4]) + zlib.compress(bytes(bad)))
    body = zlib.compress(bytes(raw))
    cuts.append(stateformat.MAGIC + bytes([4]) + zlib.compress(bytes(raw[: len(raw) // 3])))
    cuts.append(stateformat.MAGIC + bytes([4]) + body[: len(body) // 2])
    for blob in cuts:
        with pytest.raises(ContractError):
            stateformat.decode(blob)
    for blob in flips:  # a flipped byte may still read as a value: never another exception
        try:
            stateformat.decode(blob)
        except ContractError:
            continue


def test_a_damaged_checkpoint_logs_one_line_and_the_component_starts_cold(
        good: bytes, caplog: pytest.LogCaptureFixture) -> None:
    from streams.runtime.checkpoint import Checkpoint, CheckpointedPipeline, decode

    config = PipelineConfig()
    pipe = CheckpointedPipeline(config, "m")
    blob = good[: len(good) * 2 // 3]  # framed with its own CRC: the state format refuses it
    value = Checkpoint("db-1", "m", 0, 10, 0, pipe.state_key, blob).encode()
    with caplog.at_level(logging.WARNING):
        assert pipe.restore_checkpoint(decode(value), value) is False
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "starting cold" in lines[0] and "\n" not in lines[0]
    assert pipe.components() == []
    cold = Pipeline(config)
    assert _run(pipe, samples("db-1", 50)) == _run(cold, samples("db-1", 50))
