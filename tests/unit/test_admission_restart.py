"""The admission counters survive an actuator restart (#12): a forger who crashes the actuator
gets no fresh allowance of new components per host, no fresh allowance of new hosts, and no
new uncapped first window. Through the actuator's own state file
(``streams/runtime/enginestate.py``), as a restarted actuator reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actuators.engine import AllocationEngine, EngineConfig
from streams.runtime.enginestate import EngineStateStore, read

T0 = 1_750_000_000_000 - 1_750_000_000_000 % 60_000
MIN = 60_000
BINDING = {"cluster_id": "c-1", "backend": "dryrun", "owned": "*", "group": "g"}
CFG = EngineConfig(holdout=0.0, max_new_components_per_host=3, new_component_window_s=3600,
                   max_new_hosts=2, new_host_window_s=3600)


def _risk(component: str, ts: int) -> dict[str, Any]:
    return {
        "component": component, "ts": ts, "risk": 0.1, "anomaly": 0.1, "horizon_s": 900,
        "breach": {"metric": "cpu.util", "threshold": 0.9, "eta_s": 300.0, "probability": 0.1},
        "forecasts": [], "contributors": {},
        "model": {"version": "t", "samples_seen": 100, "warm": True, "source": "component"},
    }


def _restarted(engine: AllocationEngine, path: Path) -> AllocationEngine:
    store = EngineStateStore(path, dict(BINDING))
    store.save(engine, {"forewarn.risk[0]": 1})
    store.close()  # kill: what is on disk is what the next life reads
    twin = AllocationEngine(CFG)
    twin.restore(read(path).snapshot())
    return twin


def _forge(engine: AllocationEngine, ts: int, tag: str) -> tuple[int, int]:
    """Ten new forged ids on a known host and ten on new forged hosts; (components, hosts)
    refused."""
    before = engine.refused_new, engine.refused_hosts
    for i in range(10):
        engine.on_risk(_risk(f"real/forged-{tag}{i}", ts), host="real")
        engine.on_risk(_risk(f"forged-{tag}{i}/x", ts), host=f"forged-{tag}{i}")
    return engine.refused_new - before[0], engine.refused_hosts - before[1]


def test_a_restart_keeps_the_admission_windows(tmp_path: Path) -> None:
    engine = AllocationEngine(CFG)
    engine.on_risk(_risk("real/app", T0), host="real")  # the first hour: uncapped hosts
    later = T0 + 2 * 3_600_000
    assert _forge(engine, later, "a") == (7, 8)  # 3 new per host, 2 new hosts per window
    twin = _restarted(engine, tmp_path / "a.state")
    assert twin.snapshot() == engine.snapshot()
    # the same minute after the restart: nothing more is admitted, the refusals counted on
    assert _forge(twin, later + MIN, "b") == (10, 10)
    # an engine that forgot would have taken them: the test can tell
    fresh = AllocationEngine(CFG)
    assert _forge(fresh, later + MIN, "b") == (7, 0)  # its first hour again: every host admitted
    # the windows still end: an hour on, the allowance is back
    assert _forge(twin, later + 3_600_000 + 2 * MIN, "c") == (7, 8)


def test_a_save_while_a_flood_is_refused_writes_no_admission_frame(tmp_path: Path) -> None:
    engine = AllocationEngine(CFG)
    engine.on_risk(_risk("real/app", T0), host="real")
    later = T0 + 2 * 3_600_000
    _forge(engine, later, "a")
    store = EngineStateStore(tmp_path / "a.state", dict(BINDING), sweep=0)
    store.save(engine, {"forewarn.risk[0]": 1})
    assert _forge(engine, later + MIN, "b") == (10, 10)  # all refused: nothing admitted
    assert store.save(engine, {"forewarn.risk[0]": 2}) < 600  # the clock and offsets only
    store.close()


def test_a_state_saved_before_admission_was_kept_starts_counting_afresh() -> None:
    engine = AllocationEngine(CFG)
    engine.on_risk(_risk("real/app", T0), host="real")
    old = engine.snapshot()
    del old["admission"]
    twin = AllocationEngine(CFG)
    twin.restore(old)
    assert twin.snapshot()["admission"]["known_hosts"] == []
    assert twin.on_risk(_risk("real/other", T0 + MIN), host="real") is not None
