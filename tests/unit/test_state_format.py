"""The explicit state format (processors/stateformat.py): round trips, the previous format's
migration, and forged snapshots that must not run code."""

from __future__ import annotations

import json
import math
import os
import pickle
import random
import zlib
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors import stateformat, statewrite3
from processors.legacy_state import load_v2, migrate_v2
from processors.pipeline import Pipeline, PipelineConfig
from schemas.errors import ContractError

DATA = Path(__file__).resolve().parents[1] / "data"
CONFIGS = {  # novelty warm after 50 windows, not 250: the tests stay short
    "novelty": PipelineConfig(anomaly_warm=50),
    "hst": PipelineConfig(anomaly_model="hst", forecaster="trend"),
    "trend-no-drift": PipelineConfig(forecaster="trend", drift_threshold=0),
    "joint": PipelineConfig(anomaly_model="joint"),
    "novelty-coarse": PipelineConfig(anomaly_warm=50, anomaly_coarse=4),  # s18: fine_suppressor
    # s23: the record's suppressor a ConfirmingSuppressor (or, with it the default, a Suppressor)
    "novelty-confirm": PipelineConfig(anomaly_warm=50, anomaly_confirm=True),
    "novelty-noconfirm": PipelineConfig(anomaly_warm=50, anomaly_confirm=False),
    # s24: the confirmation's floor (the default 1) and s23's rule (0)
    "novelty-floor0": PipelineConfig(anomaly_warm=50, anomaly_confirm_floor=0),
    # s19: the breach records (processors.forecastrecord) in the snapshot; s22: the alarm's head
    "records": PipelineConfig(anomaly_warm=50, forecast_trust=2.0, warn_trust=2.0, hover=2,
                              alarm_learner=True),
}
# (config, metrics): with 2 metrics the novelty model keeps its seasonal channel too
CASES = [("novelty", 2), ("novelty", 3), ("hst", 3), ("trend-no-drift", 3), ("joint", 3),
         ("novelty-coarse", 2), ("records", 3), ("novelty-confirm", 2), ("novelty-noconfirm", 2),
         ("novelty-floor0", 2)]
N, MORE, ACTED_MS = 1200, 300, 11_000_000  # samples before the snapshot, after; an action


def samples(component: str, n: int, metrics: int = 3, seed: int = 7) -> list[dict[str, Any]]:
    """A cpu cycle, memory leaking into FAIL and back, a slow disk; 10 s apart."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        mem = 60.0 + 40.0 * ((i % 900) / 900) + rng.gauss(0, 0.5)
        values = {
            "mem.used_pct": min(mem, 99.0),
            "cpu.util": 0.4 + 0.2 * math.sin(i / 90.0) + rng.gauss(0, 0.02),
            "disk.used_pct": 40.0 + i * 0.001,
        }
        out.append({"component": component, "host": "h-1", "ts": i * 10_000, "tags": {},
                    "metrics": dict(list(values.items())[:metrics])})
    return out


def _run(p: Pipeline, batch: list[dict[str, Any]]) -> list[str]:
    return [json.dumps([o.risk, o.health, o.rejected], sort_keys=True)
            for o in map(p.ingest, batch)]


@pytest.mark.parametrize(("name", "metrics"), CASES)
def test_restored_state_continues_byte_for_byte(name: str, metrics: int) -> None:
    config = CONFIGS[name]
    batch = samples("db-1", N + MORE, metrics)
    p = Pipeline(config)
    _run(p, batch[:N])
    p.on_action("db-1", ACTED_MS)
    blob = p.snapshot("db-1")
    assert stateformat.version_of(blob) == stateformat.VERSION == 4
    twin = Pipeline(config)
    twin.restore("db-1", blob)
    old = Pipeline(config)  # the same state written by VERSION 3's writer (s27: still read)
    old.restore("db-1", statewrite3.encode({"component": "db-1", "key": config.state_key(),
                                            "state": p._states["db-1"], "fleet": p.fleet}))
    assert twin.snapshot("db-1") == blob == old.snapshot("db-1")  # nothing lost or added
    want = _run(p, batch[N:])
    assert _run(twin, batch[N:]) == want == _run(old, batch[N:])
    assert twin.snapshot("db-1") == p.snapshot("db-1") == old.snapshot("db-1")


def test_state_of_every_type_is_written_and_fields_match_the_schema() -> None:
    """Each class's attributes equal its schema's fields (encode checks them): a field added
    to a state class without the format fails here."""
    seen: set[str] = set()
    for name, metrics in CASES:
        p = Pipeline(CONFIGS[name])
        _run(p, samples("db-1", N, metrics))
        p.on_action("db-1", ACTED_MS)
        seen |= _tags(zlib.decompress(p.snapshot("db-1")[4:]))
    assert seen == set(stateformat.schema())


def _tags(raw: bytes) -> set[str]:
    """The types a VERSION 4 snapshot holds: its table's (processors.statewrite)."""
    unpacker = msgpack.Unpacker(strict_map_key=False)
    unpacker.feed(raw)
    return {tag for tag, _ in unpacker.unpack()}


@pytest.mark.parametrize("name", ["novelty", "hst"])
def test_previous_format_fixture_is_migrated(name: str) -> None:
    """tests/data/checkpoint-v2-*.bin were written by format 2 (a zlib'd pickle)."""
    blob = (DATA / f"checkpoint-v2-{name}.bin").read_bytes()
    facts = json.loads((DATA / f"checkpoint-v2-{name}.json").read_text())
    # as tests/data/make_checkpoint_v2.py made them (the default then: anomaly_hold off)
    config = {"novelty": PipelineConfig(anomaly_hold=False),
              "hst": PipelineConfig(anomaly_model="hst", forecaster="trend")}[name]
    with pytest.raises(ContractError, match="pickled format 1-2 checkpoint: refused"):
        Pipeline(config).restore("db-1", blob)
    p = Pipeline(config)
    p.restore("db-1", migrate_v2(blob))
    state = p._states["db-1"]
    assert state.samples_seen == facts["samples_seen"]
    assert state.windows_seen == facts["windows_seen"]
    assert state.learner.labels == facts["labels"] and p.fleet.labels == facts["fleet_labels"]
    assert state.windower.state.watermark_ms == facts["watermark_ms"]
    assert sorted(state.outlooks) == facts["outlooks"]
    later = samples("db-1", 2600)[2400:]
    assert len([r for line in _run(p, later) for r in json.loads(line)[0]]) > 0


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_migrated_state_continues_as_the_pickled_one_would(name: str) -> None:
    config = CONFIGS[name]
    batch = samples("db-1", N + MORE)
    p = Pipeline(config)
    _run(p, batch[:N])
    payload = {"format": 2, "component": "db-1", "key": config.state_key(),
               "state": p._states["db-1"], "fleet": p.fleet}
    old = zlib.compress(pickle.dumps(payload, protocol=5), 6)  # what format 2 wrote
    q = Pipeline(config)
    q.restore("db-1", migrate_v2(old))
    assert _run(q, batch[N:]) == _run(p, batch[N:])


class _Touch:
    """A pickle that, if loaded, creates a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.path}",))


class _Open:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize("gadget", [_Touch, _Open])
def test_forged_pickled_checkpoint_runs_no_code(tmp_path: Path, gadget: type) -> None:
    target = tmp_path / "pwned"
    payload = {"format": 2, "component": "db-1", "key": PipelineConfig().state_key(),
               "state": gadget(target), "fleet": None}
    forged = [
        zlib.compress(pickle.dumps(payload), 6),
        pickle.dumps(payload),
        stateformat.MAGIC + bytes([stateformat.VERSION]) + zlib.compress(pickle.dumps(payload)),
    ]
    for blob in forged:
        with pytest.raises(ContractError):
            Pipeline(PipelineConfig()).restore("db-1", blob)
        with pytest.raises(ContractError):
            migrate_v2(blob)
    assert not target.exists()
    # the control: the gadget does work when unpickled without restriction
    made = pickle.loads(pickle.dumps(gadget(target)))
    if hasattr(made, "close"):
        made.close()
    assert target.exists()


def test_restricted_unpickler_refuses_getattr_gadgets_and_object_arrays() -> None:
    # getattr(ComponentState, "__init__"): the first step to a function's __globals__
    gadget = b"cbuiltins\ngetattr\n(cprocessors.pipeline\nComponentState\nS'__init__'\ntR."
    blob = zlib.compress(gadget)
    with pytest.raises(ContractError, match="getattr"):
        load_v2(blob)
    import numpy as np

    blob = zlib.compress(pickle.dumps({"format": 2, "a": np.array([object()], dtype=object)}))
    with pytest.raises(ContractError):
        load_v2(blob)


def _forge(value: Any) -> bytes:
    """A forged VERSION 3 snapshot (objects as extensions ``[tag, {fields}]``), still read."""
    return stateformat.MAGIC + bytes([3]) + zlib.compress(
        msgpack.packb(value, use_bin_type=True))


def test_forged_explicit_snapshots_are_refused_with_the_type_and_field() -> None:
    p = Pipeline(PipelineConfig())
    _run(p, samples("db-1", 200))
    good = p.snapshot("db-1")
    restorer = Pipeline(PipelineConfig())
    unknown = msgpack.ExtType(1, msgpack.packb(["os.system", {"cmd": "touch x"}]))
    with pytest.raises(ContractError, match="unknown type 'os.system'"):
        restorer.restore("db-1", _forge({"component": "db-1", "state": unknown}))
    wrong = msgpack.ExtType(1, msgpack.packb(["Suppressor", {"rest": "x", "alarm": 0.5,
                                                             "t": 0, "t_alarm": None}]))
    with pytest.raises(ContractError, match="Suppressor.rest is a str"):
        restorer.restore("db-1", _forge({"component": "db-1", "state": wrong}))
    with pytest.raises(ContractError, match="not a snapshot of this component"):
        restorer.restore("web-9", good)
    with pytest.raises(ContractError, match="newer"):
        restorer.restore("db-1", stateformat.MAGIC + bytes([stateformat.VERSION + 1]) + good[4:])
    bomb = stateformat.MAGIC + bytes([stateformat.VERSION]) + zlib.compress(b"\0" * (80 << 20))
    with pytest.raises(ContractError, match="inflates beyond"):
        restorer.restore("db-1", bomb)
    restorer.restore("db-1", good)  # after all the refusals, the real one still restores


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_any_bytes_give_a_contract_error_or_a_value(body: bytes) -> None:
    for blob in (stateformat.MAGIC + bytes([4]) + zlib.compress(body),
                 stateformat.MAGIC + bytes([3]) + zlib.compress(body), body):
        try:
            stateformat.decode(blob)
        except ContractError:
            pass


def test_snarimax_state_is_refused_with_the_reason() -> None:
    p = Pipeline(PipelineConfig(forecaster="snarimax"))
    _run(p, samples("db-1", 100))
    with pytest.raises(ContractError, match="snarimax"):
        p.snapshot("db-1")


def test_no_live_code_unpickles() -> None:
    """The rule behind all of this: nothing but the offline migration (and the bench that
    measures the old format's cost on its own bytes) calls pickle.load(s) or an Unpickler."""
    import ast

    root = Path(__file__).resolve().parents[2]
    allowed = {"processors/legacy_state.py", "streams/bench/state.py"}
    found = []
    for package in ("schemas", "processors", "actuators", "streams"):
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            for node in ast.walk(ast.parse(path.read_text(), rel)):
                name = node.attr if isinstance(node, ast.Attribute) else (
                    node.id if isinstance(node, ast.Name) else "")
                if name in ("loads", "load", "Unpickler") and rel not in allowed:
                    base = node.value if isinstance(node, ast.Attribute) else None
                    if name == "Unpickler" or (isinstance(base, ast.Name)
                                               and base.id in ("pickle", "cPickle", "dill")):
                        found.append(f"{rel}:{node.lineno}")
    assert found == []


def test_a_state_without_format_is_not_checkpointed_and_the_worker_goes_on(caplog) -> None:
    from streams.runtime.checkpoint import CheckpointedPipeline

    pipe = CheckpointedPipeline(PipelineConfig(forecaster="snarimax"), "m")
    for offset, sample in enumerate(samples("db-1", 100) + samples("db-2", 100)):
        pipe.at(0, offset)
        pipe.ingest(sample)
    with caplog.at_level("WARNING"):
        assert pipe.checkpoint("db-1") is None and pipe.checkpoint("db-2") is None
    assert pipe.unsaveable == 2 and "cannot be checkpointed" in caplog.text
    warned = [r for r in caplog.records if "cannot be checkpointed" in r.getMessage()]
    assert len(warned) == 1, [r.getMessage() for r in warned]  # one warning, then a counter


def test_a_forged_checkpoint_record_on_the_topic_runs_no_code(tmp_path: Path, caplog) -> None:
    """What the Restorer does with a record read from forewarn.checkpoints: a well-framed
    envelope (right magic, CRC and state key) around a pickled gadget is refused, the
    component starts cold, and the gadget never runs."""
    from streams.runtime.checkpoint import Checkpoint, CheckpointedPipeline, decode

    target = tmp_path / "pwned"
    config = PipelineConfig()
    gadget = zlib.compress(pickle.dumps({"format": 2, "component": "db-1",
                                         "key": config.state_key(),
                                         "state": _Touch(target), "fleet": None}))
    pipe = CheckpointedPipeline(config, "m")
    for blob in (gadget, stateformat.MAGIC + bytes([stateformat.VERSION]) + gadget[1:]):
        value = Checkpoint("db-1", "m", 0, 10, 0, pipe.state_key, blob).encode()
        with caplog.at_level("WARNING"):
            assert pipe.restore_checkpoint(decode(value), value) is False
    assert "starting cold" in caplog.text and pipe.components() == []
    assert not target.exists()
