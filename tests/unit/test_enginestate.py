"""The actuator's engine state file (streams/runtime/enginestate.py): parts, saves that cost
what changed, torn writes, and the binding that refuses stale state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from actuators.engine import AllocationEngine, EngineConfig
from schemas.errors import ContractError
from streams.runtime.enginestate import (
    EngineStateStore,
    Loaded,
    assemble_snapshot,
    read,
    stale_reasons,
)

T0 = 1_700_000_000_000
BINDING = {"cluster_id": "c-1", "backend": "dryrun", "owned": "*", "group": "g"}


def risk(component: str, ts: int, value: float) -> dict[str, Any]:
    return {
        "component": component, "ts": ts, "risk": value, "anomaly": 0.5, "horizon_s": 900,
        "breach": {"metric": "cpu.util", "threshold": 0.9, "eta_s": 300.0,
                   "probability": value},
        "forecasts": [{"metric": "cpu.util", "horizon_s": 300, "mean": 0.89, "lower": 0.5,
                       "upper": 0.99}],
        "contributors": {}, "model": {"version": "t", "samples_seen": 100, "warm": True,
                                      "source": "component"},
    }


def health(component: str, ts: int, status: str) -> dict[str, Any]:
    return {"component": component, "ts": ts, "status": status, "metric": "cpu.util",
            "value": 0.97 if status != "PASS" else 0.5,
            "threshold": 0.95 if status != "PASS" else None, "rule": "cpu.util.high",
            "heartbeat": False}


def fleet(n: int) -> AllocationEngine:
    engine = AllocationEngine(EngineConfig(holdout=0.0))
    engine.on_preference({"selector": "h-0/*", "criticality": 9, "paused": False,
                          "allowed_resources": None, "maxima": {}, "ts": T0})
    for i in range(n):
        c = f"h-{i // 10}/app-{i % 10}"
        engine.on_risk(risk(c, T0 + i, 0.9 if i % 2 else 0.1), c.split("/")[0])
        engine.on_health(health(c, T0 + 60_000 + i, "FAIL" if i % 3 == 0 else "PASS"))
    engine.drain_outcomes()
    return engine


def parts_of(engine: AllocationEngine) -> dict[str, Any]:
    found = {c: engine.snapshot_component(c) for c in engine.state_components()}
    return {c: p for c, p in found.items() if p is not None}


def test_parts_assemble_to_the_whole_snapshot() -> None:
    engine = fleet(60)
    assert engine.leases() and engine.feedback.to_dict()["values"]
    assert assemble_snapshot(engine.snapshot_shared(), parts_of(engine),
                             engine.snapshot_admission()) == engine.snapshot()


def test_fast_to_dicts_equal_asdict() -> None:
    from dataclasses import asdict

    from actuators.pool import ComponentState, Lease

    engine = fleet(60)
    for raw in engine.leases():
        lease = Lease.from_dict(raw)
        assert lease.to_dict() == asdict(lease)
    comp = ComponentState(3, 0.5, 7, [1, 2], {"CPU_WEIGHT": 1}, {"IO_WEIGHT": 2}, {"m": 3}, 9)
    assert comp.to_dict() == asdict(comp)
    assert comp.to_dict()["changes_ms"] is not comp.changes_ms


def test_saved_state_restores_the_same_engine(tmp_path: Path) -> None:
    engine = fleet(60)
    engine.tick(T0 + 90_000)  # the fleet's clock, which only tick moves, is kept too
    assert engine.snapshot()["fleet_ms"] == T0 + 90_000
    store = EngineStateStore(tmp_path / "a.state", dict(BINDING))
    store.save(engine, {"forewarn.risk[0]": 60})
    engine.on_risk(risk("h-0/app-2", T0 + 120_000, 0.95), "h-0")
    store.touch(["h-0/app-2"])
    store.save(engine, {"forewarn.risk[0]": 61})
    store.close()
    loaded = read(tmp_path / "a.state")
    assert loaded.binding == BINDING and loaded.offsets == {"forewarn.risk[0]": 61}
    twin = AllocationEngine(EngineConfig(holdout=0.0))
    twin.restore(loaded.snapshot())
    assert twin.snapshot() == engine.snapshot()


def test_a_save_writes_what_changed_not_the_fleet(tmp_path: Path) -> None:
    engine = fleet(3000)
    store = EngineStateStore(tmp_path / "a.state", dict(BINDING), sweep=0)
    whole = store.save(engine, {"forewarn.risk[0]": 1})
    assert whole > 1_000_000  # the first save writes everything
    assert store.save(engine, {"forewarn.risk[0]": 2}) < 200  # nothing changed: offsets only
    engine.on_risk(risk("h-7/app-3", T0 + 3_600_000, 0.95), "h-7")
    store.touch(["h-7/app-3"])
    assert store.save(engine, {"forewarn.risk[0]": 3}) < 3000  # one component's part
    store.close()
    twin = AllocationEngine(EngineConfig(holdout=0.0))
    twin.restore(read(tmp_path / "a.state").snapshot())
    assert twin.snapshot() == engine.snapshot()


def test_the_sweep_catches_changes_nobody_touched(tmp_path: Path) -> None:
    engine = fleet(40)
    store = EngineStateStore(tmp_path / "a.state", dict(BINDING), sweep=10)
    store.save(engine, {})
    for i in range(40):  # new health values for every component, not touched
        c = f"h-{i // 10}/app-{i % 10}"
        engine.on_health(health(c, T0 + 120_000 + i, "WARN"))
    for n in range(4):
        store.save(engine, {"forewarn.risk[0]": n})
    store.close()
    twin = AllocationEngine(EngineConfig(holdout=0.0))
    twin.restore(read(tmp_path / "a.state").snapshot())
    assert twin.snapshot() == engine.snapshot()


def test_a_torn_save_is_ignored_and_the_last_whole_one_read(tmp_path: Path) -> None:
    path = tmp_path / "a.state"
    engine = fleet(20)
    store = EngineStateStore(path, dict(BINDING))
    store.save(engine, {"forewarn.risk[0]": 5})
    before = engine.snapshot()
    engine.on_risk(risk("h-1/app-1", T0 + 3_600_000, 0.95), "h-1")
    store.touch(["h-1/app-1"])
    size = path.stat().st_size
    store.save(engine, {"forewarn.risk[0]": 6})
    store.close()
    path.write_bytes(path.read_bytes()[: path.stat().st_size - 7])  # cut in the commit frame
    loaded = read(path)
    assert loaded.offsets == {"forewarn.risk[0]": 5} and loaded.torn_bytes > 0
    assert loaded.snapshot() == before
    assert path.stat().st_size > size


def test_dead_frames_are_compacted_away(tmp_path: Path) -> None:
    path = tmp_path / "a.state"
    engine = fleet(10)
    store = EngineStateStore(path, dict(BINDING))
    store.save(engine, {})
    for n in range(2000):
        engine.on_risk(risk("h-0/app-1", T0 + 3_600_000 + n * 60_000, 0.95), "h-0")
        store.touch(["h-0/app-1"])
        store.save(engine, {"forewarn.risk[0]": n})
    store.close()
    assert path.stat().st_size < (1 << 20) + 64 * 1024
    assert read(path).snapshot() == engine.snapshot()


def test_not_a_state_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.state"
    path.write_text('{"version": 2, "leases": []}')  # the retired JSON file
    with pytest.raises(ContractError, match="not a forewarn engine state"):
        read(path)


def _loaded(**offsets: int) -> Loaded:
    return Loaded(binding=dict(BINDING), offsets={k.replace("_", "."): v
                                                  for k, v in offsets.items()},
                  shared=None, parts={})


def test_stale_reasons_name_each_mismatch() -> None:
    ok = stale_reasons(_loaded(r=10), BINDING, {"r": 10}, {"r": 12})
    assert ok == []
    behind = stale_reasons(_loaded(r=10), BINDING, {"r": 8}, {"r": 12})
    assert behind == []  # a crash between the save and the commit: redelivery, nothing lost
    assert "another actuator" in stale_reasons(_loaded(r=10), BINDING, {"r": 11}, {"r": 12})[0]
    assert "recreated" in stale_reasons(_loaded(r=10), BINDING, {"r": None}, {"r": 0})[0]
    assert "no committed offset" in stale_reasons(_loaded(r=10), BINDING, {}, {"r": 12})[0]
    moved = stale_reasons(_loaded(r=10), {**BINDING, "cluster_id": "c-2"}, {"r": 10}, {})
    assert moved == ["cluster_id was 'c-1', now 'c-2'"]
    other = stale_reasons(_loaded(), {**BINDING, "backend": "linux"}, {}, {})
    assert other == ["backend was 'dryrun', now 'linux'"]
