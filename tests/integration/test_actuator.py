"""The actuator alone on the real embedded broker: risk in; commands, outcomes and dead
letters out; ownership, duplicates and preferences respected."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from actuators.backends.dryrun import DryRunBackend
from schemas.codec import Codec
from streams.runtime.actuator import Actuator
from streams.settings import Settings
from streams.sim.examples import T0, risk_event
from tests.kafkautil import producer, read_all

pytestmark = pytest.mark.integration
codec = Codec()


@pytest.fixture
def running(settings: Settings) -> Iterator[tuple[Settings, Actuator, DryRunBackend]]:
    s = settings.replace(owned="web-*")
    backend = DryRunBackend(hosts=("web-*",))
    actuator = Actuator(s, backend)
    stop = threading.Event()
    thread = threading.Thread(target=actuator.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield s, actuator, backend
    finally:
        stop.set()
        thread.join(30)
        actuator.close()


def test_owned_risk_is_granted_once_foreign_skipped_garbage_dead_lettered(running) -> None:
    s, actuator, backend = running
    p = producer(s)
    ours = codec.encode("RiskScore", risk_event("web-1/app", T0))
    p.produce(s.topic("risk"), key=b"web-1/app", value=ours)
    p.produce(s.topic("risk"), key=b"web-1/app", value=ours)  # a redelivery: acts once
    p.produce(s.topic("risk"), key=b"db-1/pg", value=codec.encode(
        "RiskScore", risk_event("db-1/pg", T0)))
    p.produce(s.topic("risk"), key=b"web-2/app", value=b"\x00 not a risk score")
    # paused by preference before its risk arrives: never touched
    p.produce(s.topic("preferences"), key=b"web-3/*", value=codec.encode("Preference", {
        "selector": "web-3/*", "ts": T0, "criticality": 9, "allowed_resources": None,
        "maxima": {}, "paused": True}))
    p.flush(10)
    deadline = time.monotonic() + 30
    while not actuator.engine.preference("web-3/db")["paused"]:  # read before the risk comes
        assert time.monotonic() < deadline, "the preference never reached the actuator"
        time.sleep(0.05)
    p.produce(s.topic("risk"), key=b"web-3/db", value=codec.encode(
        "RiskScore", risk_event("web-3/db", T0 + 5_000)))
    p.flush(10)

    dead = read_all(s, "deadletter", until=lambda r: len(r) >= 1, codec=codec)
    outs = read_all(s, "outcomes", until=lambda r: len(r) >= 1, codec=codec)
    cmds = read_all(s, "allocations", codec=codec)  # until quiet: nothing more comes
    assert [c[3]["component"] for c in cmds] == ["web-1/app"]
    grant = cmds[0][3]
    assert grant["action"] == "GRANT" and grant["resource"] in ("CPU_WEIGHT", "CPU_QUOTA")
    assert [(o[3]["command_id"], o[3]["status"]) for o in outs] == [
        (grant["command_id"], "APPLIED")]
    assert backend.actions == 1
    assert dead[0][3]["source_topic"] == s.topic("risk") and dead[0][3]["stage"] == "decode"
    assert dead[0][3]["original"] == b"\x00 not a risk score"
    assert actuator.stats.not_owned == 1
    assert actuator.stats.latencies_ms and min(actuator.stats.latencies_ms) >= 0


def test_prefs_cli_sets_changes_and_clears_through_the_compacted_topic(settings, capsys) -> None:
    from streams.cli.commands import main
    from streams.runtime.prefs import read_preferences

    flags = ["--bootstrap-servers", settings.bootstrap_servers,
             "--topic-prefix", settings.topic_prefix, "prefs"]
    assert main([*flags, "set", "db-*", "--criticality", "9", "--max", "MEMORY_HIGH=4096"]) == 0
    assert main([*flags, "set", "db-*", "--pause"]) == 0
    assert main([*flags, "set", "web-1/app", "--allow", "CPU_WEIGHT"]) == 0
    in_force = read_preferences(settings, codec)
    assert in_force["db-*"]["criticality"] == 9 and in_force["db-*"]["paused"] is True
    assert in_force["db-*"]["maxima"] == {"MEMORY_HIGH": 4096.0}
    assert in_force["web-1/app"]["allowed_resources"] == ["CPU_WEIGHT"]
    assert main([*flags, "clear", "db-*"]) == 0
    assert set(read_preferences(settings, codec)) == {"web-1/app"}
    capsys.readouterr()
    assert main([*flags, "list"]) == 0
    assert "web-1/app" in capsys.readouterr().out


def test_a_fail_after_a_grant_comes_back_as_a_measured_effect(running) -> None:
    s, actuator, _ = running
    p = producer(s)
    p.produce(s.topic("risk"), key=b"web-5/app", value=codec.encode(
        "RiskScore", risk_event("web-5/app", T0)))
    p.flush(10)
    cmds = read_all(s, "allocations", until=lambda r: len(r) >= 1, codec=codec)
    grant = cmds[0][3]
    assert grant["action"] == "GRANT" and grant["component"] == "web-5/app"
    fail = {"component": "web-5/app", "ts": T0 + 60_000, "status": "FAIL", "metric": "cpu.util",
            "value": 0.99, "threshold": 0.95, "rule": "cpu.util", "heartbeat": False}
    p.produce(s.topic("health"), key=b"web-5/app", value=codec.encode("HealthSignal", fail))
    p.produce(s.topic("health"), key=b"db-1/pg", value=codec.encode(  # not owned: ignored
        "HealthSignal", {**fail, "component": "db-1/pg"}))
    p.flush(10)
    # the effect is measured once the horizon has passed in event time (the next risk says so)
    deadline = time.monotonic() + 30
    while actuator.stats.health < 1:
        assert time.monotonic() < deadline, "the health signal never reached the actuator"
        time.sleep(0.05)
    p.produce(s.topic("risk"), key=b"web-5/app", value=codec.encode(
        "RiskScore", risk_event("web-5/app", T0 + 901_000, value=0.1)))
    p.flush(10)
    outs = read_all(s, "outcomes", codec=codec,
                    until=lambda r: any(o[3]["effect"] is not None for o in r))
    effects = [o[3] for o in outs if o[3]["effect"] is not None]
    assert [(e["command_id"], e["backend"]) for e in effects] == [(grant["command_id"], "engine")]
    assert effects[0]["effect"]["breach_avoided"] is False
    assert effects[0]["effect"]["metric"] == "cpu.util"
    assert actuator.stats.health == 1


def test_a_restarted_actuator_keeps_its_leases_and_does_not_grant_again(settings) -> None:
    s = settings.replace(owned="web-*")
    p = producer(s)
    p.produce(s.topic("risk"), key=b"web-9/app", value=codec.encode(
        "RiskScore", risk_event("web-9/app", T0)))
    p.flush(10)

    first = Actuator(s, DryRunBackend(hosts=("web-*",)))
    run_until(first, lambda: first.stats.commands >= 1)
    held = first.engine.leases()
    assert [lease["component"] for lease in held] == ["web-9/app"]
    assert first.state_path is not None and first.state_path.exists()

    second = Actuator(s, DryRunBackend(hosts=("web-*",)))  # same group, same data_dir
    assert second.engine.leases() == held
    # the same risk again (a redelivery after the restart) issues nothing new
    p.produce(s.topic("risk"), key=b"web-9/app", value=codec.encode(
        "RiskScore", risk_event("web-9/app", T0)))
    p.flush(10)
    run_until(second, lambda: second.stats.risks >= 1)
    assert second.stats.commands == 0


def test_an_unreadable_engine_state_is_kept_aside_and_the_actuator_starts_fresh(settings) -> None:
    path = settings.data_dir + f"/actuator-{settings.actuator_group}.state"
    with open(path, "wb") as fh:
        fh.write(b"FWAS\x01garbage")
    actuator = Actuator(settings, DryRunBackend())
    try:
        assert actuator.engine.leases() == []
        assert actuator.state_refused and "unreadable" in actuator.state_refused[0]
        with open(path + ".unreadable", "rb") as fh:
            assert fh.read() == b"FWAS\x01garbage"
    finally:
        actuator.close()


def run_until(actuator: Actuator, done) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=actuator.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    try:
        while not done():
            assert time.monotonic() < deadline, "the actuator did not get there"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(30)
        actuator.close()


def test_state_the_group_has_moved_past_is_refused_not_applied(settings, caplog) -> None:
    """Issue #12: a stale state (another actuator committed past it) restored 30 old leases
    and silently issued nothing. Now it is refused with a warning and kept aside."""
    s = settings.replace(owned="web-*")
    p = producer(s)
    p.produce(s.topic("risk"), key=b"web-9/app", value=codec.encode(
        "RiskScore", risk_event("web-9/app", T0)))
    p.flush(10)
    first = Actuator(s, DryRunBackend(hosts=("web-*",)))
    run_until(first, lambda: first.stats.commands >= 1)
    assert first.state_path is not None and first.state_path.exists()
    # another actuator of the group (keeping no state) acts on a later risk event
    p.produce(s.topic("risk"), key=b"web-8/app", value=codec.encode(
        "RiskScore", risk_event("web-8/app", T0 + 1000)))
    p.flush(10)
    other = Actuator(s, DryRunBackend(hosts=("web-*",)), persist=False)
    run_until(other, lambda: other.stats.risks >= 1)
    with caplog.at_level("WARNING"):
        third = Actuator(s, DryRunBackend(hosts=("web-*",)))
    try:
        assert third.engine.leases() == []
        assert any("another actuator" in r for r in third.state_refused)
        assert "NOT applied" in caplog.text
        assert third.metrics.registry.get_sample_value("forewarn_actuator_state_refused") == 1
        assert first.state_path.with_suffix(".state.stale").exists()
    finally:
        third.close()


def test_state_of_another_cluster_or_backend_or_format_is_refused(settings) -> None:
    from streams.runtime.enginestate import EngineStateStore, read

    s = settings.replace(owned="web-*")
    first = Actuator(s, DryRunBackend(hosts=("web-*",)))
    first.close()
    assert first.state_path is not None
    good = first.state_path.read_bytes()
    binding = read(first.state_path).binding
    assert binding["cluster_id"] and binding["backend"] == "dryrun"
    for change in ({"cluster_id": "another-cluster"}, {"backend": "linux"}):
        store = EngineStateStore(first.state_path, {**binding, **change})
        store.compact(first.engine, {})
        store.close()
        again = Actuator(s, DryRunBackend(hosts=("web-*",)))
        again.close()
        key = next(iter(change))
        assert any(r.startswith(f"{key} was") for r in again.state_refused), again.state_refused
    old = first.state_path.with_suffix(".json")
    old.write_text('{"version": 2, "leases": []}')  # the retired, unbound JSON file
    again = Actuator(s, DryRunBackend(hosts=("web-*",)))
    again.close()
    assert "JSON engine state" in again.state_refused[0]
    assert old.with_suffix(".json.unbound").exists() and not old.exists()
    first.state_path.write_bytes(good)
    fine = Actuator(s, DryRunBackend(hosts=("web-*",)))
    fine.close()
    assert fine.state_refused == []


def test_engine_knobs_from_the_settings_reach_the_actuator(settings) -> None:
    s = settings.replace(engine=(("cooldown_s", 77), ("lease_s", 7200)), risk_threshold=0.55)
    actuator = Actuator(s, DryRunBackend(), persist=False)
    try:
        config = actuator.engine.config
        assert (config.cooldown_s, config.lease_s, config.risk_threshold) == (77, 7200, 0.55)
        assert config.release_threshold < 0.55  # moves with the alarm point
    finally:
        actuator.close()
