"""The engine's feedback: measured effects, Thompson sampling over resources, holdouts, acted
intervals, and the state they add to snapshots."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from actuators.backends.dryrun import DryRunBackend
from actuators.config import default_component_class
from actuators.engine import AllocationEngine, EngineConfig
from actuators.feedback import Feedback, unit_hash
from schemas.errors import ContractError
from tests.unit.test_engine import T0, S, assert_contract, config, health, outcome, pref, risk

CFG = config(holdout=0.0)
CANDIDATES = [("CPU_WEIGHT", "cpu.util"), ("CPU_QUOTA", "cpu.util")]


def granted(engine: AllocationEngine, component: str, ts: int, upper: float = 1.08,
            status: str = "APPLIED") -> dict[str, Any]:
    [cmd] = engine.on_risk(risk(component, ts, 0.8, upper=upper), host=component)
    engine.on_outcome(outcome(cmd, status))
    return cmd


def effects(engine: AllocationEngine) -> list[dict[str, Any]]:
    return [o for o in engine.drain_outcomes() if o["effect"] is not None]


# -- measured effect ----------------------------------------------------------------------------


def test_effect_is_measured_over_the_horizon_and_fits_the_contract() -> None:
    engine = AllocationEngine(CFG)
    grant = granted(engine, "web-1", T0)  # forecast mean 0.972 (the shortest horizon's)
    engine.on_risk(risk("web-1", T0 + 600 * S, 0.5, upper=0.8), host="web-1")
    assert effects(engine) == []  # the horizon (900 s) has not passed
    engine.tick(T0 + 899 * S)
    assert effects(engine) == [] and engine.feedback.pending() == 1
    engine.tick(T0 + 900 * S)
    [done] = effects(engine)
    assert_contract(done, "AllocationOutcome")
    assert (done["command_id"], done["status"], done["backend"]) == (
        grant["command_id"], "APPLIED", "engine")
    assert done["detail"].startswith("effect measured")
    assert done["effect"] == {"metric": "cpu.util", "before": pytest.approx(0.972),
                              "after": pytest.approx(0.72), "breach_avoided": True}
    assert engine.feedback.evidence("web", "CPU_WEIGHT") == (1.0, 0.0)


def test_a_fail_within_the_horizon_means_the_breach_was_not_avoided() -> None:
    engine = AllocationEngine(CFG)
    granted(engine, "web-1", T0)
    granted(engine, "web-2", T0)
    granted(engine, "web-3", T0)
    engine.on_health(health("web-1", T0 + 300 * S, "FAIL"))
    engine.on_health(health("web-2", T0 - S, "FAIL"))  # before the grant: not its doing
    engine.on_health(health("web-2", T0 + 901 * S, "FAIL"))  # after the horizon
    engine.on_health(health("web-3", T0 + 300 * S, "WARN"))
    engine.tick(T0 + 1000 * S)
    avoided = {o["component"]: o["effect"]["breach_avoided"] for o in effects(engine)}
    assert avoided == {"web-1": False, "web-2": True, "web-3": True}
    assert engine.feedback.evidence("web", "CPU_WEIGHT") == (2.0, 1.0)


def test_after_is_taken_when_the_lease_ends_or_after_effect_after_s() -> None:
    engine = AllocationEngine(config(holdout=0.0, lease_s=300))
    granted(engine, "a", T0)
    engine.on_risk(risk("a", T0 + 200 * S, 0.5, upper=0.5), host="a")  # level 0.45, no need
    engine.tick(T0 + 300 * S)  # the lease ends: after = 0.45
    engine.on_risk(risk("a", T0 + 400 * S, 0.9, upper=2.0), host="a")  # no grant (cooldown)
    engine.tick(T0 + 900 * S)
    [done] = effects(engine)
    assert done["effect"]["after"] == pytest.approx(0.45)
    early = AllocationEngine(config(holdout=0.0, effect_after_s=120))
    granted(early, "a", T0)
    early.on_risk(risk("a", T0 + 150 * S, 0.5, upper=0.6), host="a")  # level 0.54 at 150 s
    early.on_risk(risk("a", T0 + 500 * S, 0.5, upper=0.8), host="a")
    early.tick(T0 + 900 * S)
    assert effects(early)[0]["effect"]["after"] == pytest.approx(0.54)


def test_only_applied_grants_are_measured_and_scale_downs_teach_nothing() -> None:
    engine = AllocationEngine(CFG)
    granted(engine, "a", T0, status="FAILED")
    engine.tick(T0 + 2000 * S)
    assert effects(engine) == [] and engine.acted("a") == []
    quiet = AllocationEngine(config(holdout=0.0, shrink_hold_s=0))
    [down] = quiet.on_risk(risk("b", T0, 0.05, threshold=0.95, upper=0.3), host="h")
    quiet.on_outcome(outcome(down, "APPLIED"))
    quiet.tick(T0 + 900 * S)
    [done] = effects(quiet)
    assert done["command_id"] == down["command_id"] and "scale-down" in done["detail"]
    assert done["effect"]["breach_avoided"] is True
    assert quiet.feedback.evidence("b", "CPU_WEIGHT") == (0.0, 0.0)


def test_health_signals_are_checked() -> None:
    engine = AllocationEngine(CFG)
    with pytest.raises(ContractError, match="status 'DOWN'"):
        engine.on_health(health("a", T0, "DOWN"))
    with pytest.raises(ContractError, match="lacks"):
        engine.on_health({"component": "a", "ts": T0})


# -- Thompson sampling --------------------------------------------------------------------------


def test_component_class_strips_trailing_numbers_and_is_configurable() -> None:
    assert default_component_class("web-03") == "web"
    assert default_component_class("db_12/pg-2") == "db/pg"
    assert default_component_class("cache") == "cache"
    fb = Feedback(config(component_class=lambda c: c.split("-")[0]))
    fb.learn("web", "CPU_QUOTA", True)
    assert fb.evidence("web", "CPU_QUOTA") == (1.0, 0.0)


def test_no_evidence_keeps_the_mapping_order() -> None:
    fb = Feedback(CFG)
    assert all(fb.order("web-1", T0 + i, CANDIDATES) == CANDIDATES for i in range(50))
    fb.learn("db", "CPU_QUOTA", True)  # another class's evidence does not count
    assert fb.order("web-1", T0, CANDIDATES) == CANDIDATES


def test_thompson_converges_on_the_resource_that_works_and_is_deterministic() -> None:
    fb = Feedback(CFG)
    for i in range(50):  # CPU_QUOTA avoids breaches 90 % of the time, CPU_WEIGHT 10 %
        resource = "CPU_QUOTA" if i % 2 else "CPU_WEIGHT"
        works = (i // 2) % 10 != 0 if resource == "CPU_QUOTA" else (i // 2) % 10 == 0
        fb.learn("web", resource, works)
    firsts = [fb.order(f"web-{i % 7}", T0 + i, CANDIDATES)[0][0] for i in range(400)]
    assert Counter(firsts)["CPU_QUOTA"] >= 0.9 * len(firsts)
    again = [fb.order(f"web-{i % 7}", T0 + i, CANDIDATES)[0][0] for i in range(400)]
    assert firsts == again
    off = Feedback(config(thompson=False))
    off.load(fb.to_dict())
    assert off.order("web-1", T0, CANDIDATES) == CANDIDATES


def test_the_engine_learns_from_measured_effects_which_resource_to_grant() -> None:
    engine, backend, chosen = AllocationEngine(CFG), DryRunBackend(), []
    for i in range(80):
        component, ts = f"web-{i:03d}", T0 + i * 1000 * S
        for cmd in engine.on_risk(risk(component, ts, 0.8, upper=1.08), host=component):
            engine.on_outcome(backend.apply(cmd))
            chosen.append(cmd["resource"])
            odds = 0.9 if cmd["resource"] == "CPU_WEIGHT" else 0.1  # how often it still fails
            if unit_hash("fails", i) < odds:
                engine.on_health(health(component, ts + 120 * S, "FAIL"))
        engine.tick(ts + 900 * S)
    assert chosen[0] == "CPU_WEIGHT"  # today's choice while nothing is known
    assert Counter(chosen[-30:])["CPU_QUOTA"] >= 24
    s, f = engine.feedback.evidence("web", "CPU_QUOTA")
    assert s > f


# -- holdout ------------------------------------------------------------------------------------


def holdouts(engine: AllocationEngine, n: int) -> list[str]:
    for i in range(n):
        engine.on_risk(risk(f"c-{i}", T0 + i * S, 0.8), host=f"h-{i % 50}")
    held = [o for o in engine.drain_outcomes() if o["detail"].startswith("holdout")]
    for o in held:
        assert o["status"] == "DEFERRED" and o["backend"] == "engine"
        assert_contract(o, "AllocationOutcome")
    return [o["component"] for o in held]


def test_holdout_fraction_is_respected_and_deterministic() -> None:
    first = holdouts(AllocationEngine(config()), 4000)
    assert 0.04 * 4000 <= len(first) <= 0.06 * 4000  # default 0.05; binomial sd ~14
    assert holdouts(AllocationEngine(config()), 4000) == first
    assert len(holdouts(AllocationEngine(config(holdout=0.2)), 2000)) == pytest.approx(
        400, abs=60)
    assert holdouts(AllocationEngine(CFG), 500) == []


def test_a_holdout_lasts_the_horizon_spares_the_critical_and_is_not_acted() -> None:
    engine = AllocationEngine(config(holdout=0.999))
    assert engine.on_risk(risk("a", T0, 0.8), host="h") == []
    [held] = engine.drain_outcomes()
    assert held["detail"].startswith("holdout") and str(T0 + 900 * S) in held["detail"]
    assert engine.on_risk(risk("a", T0 + 899 * S, 0.9), host="h") == []
    assert engine.drain_outcomes() == []  # withheld quietly while the holdout lasts
    assert engine.acted("a") == [] and engine.leases() == []
    engine.on_preference(pref("vip", criticality=8))  # preempt_criticality: never held out
    [cmd] = engine.on_risk(risk("vip", T0, 0.8), host="h")
    assert cmd["action"] == "GRANT"


def test_confident_risks_are_never_held_out() -> None:
    engine = AllocationEngine(EngineConfig(holdout=0.999))  # holdout_max_risk 0.8
    [cmd] = engine.on_risk(risk("sure", T0, 0.81), host="h")
    assert cmd["action"] == "GRANT"
    assert engine.on_risk(risk("unsure", T0, 0.8), host="h") == []  # held out
    [held] = engine.drain_outcomes()
    assert held["component"] == "unsure" and held["detail"].startswith("holdout")
    # once the prediction is confident, a holdout under way ends: act on it
    [cmd] = engine.on_risk(risk("unsure", T0 + 60 * S, 0.9), host="h")
    assert (cmd["component"], cmd["action"]) == ("unsure", "GRANT")


# -- acted intervals ----------------------------------------------------------------------------


def test_acted_gives_the_intervals_under_an_applied_lease() -> None:
    engine = AllocationEngine(CFG)
    granted(engine, "a", T0, upper=1.08)
    assert engine.acted("a") == [(T0, None)]  # still under the lease
    [grow] = engine.on_risk(risk("a", T0 + 120 * S, 0.8, upper=1.08), host="a")
    engine.on_outcome(outcome(grow, "APPLIED"))  # a renewal continues the interval
    engine.tick(T0 + 1020 * S)  # the renewed lease ends
    assert engine.acted("a") == [(T0, T0 + 1020 * S)]
    granted(engine, "a", T0 + 3000 * S)
    engine.tick(T0 + 3900 * S)
    assert engine.acted("a") == [(T0, T0 + 1020 * S), (T0 + 3000 * S, T0 + 3900 * S)]
    assert engine.acted("never") == []


# -- state --------------------------------------------------------------------------------------


def scenario() -> list[tuple[str, Any]]:
    steps: list[tuple[str, Any]] = []
    for i in range(30):
        ts = T0 + i * 200 * S
        component = f"web-{i % 4}"
        steps.append(("risk", risk(component, ts, [0.8, 0.1, 0.9, 0.05][i % 4],
                                   upper=[1.2, 0.3, 1.5, 0.2][i % 4], threshold=0.9)))
        if i % 5 == 0:
            steps.append(("health", health(component, ts + 50 * S, "FAIL")))
    return steps


def play(engine: AllocationEngine, steps: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for kind, record in steps:
        if kind == "risk":
            for cmd in engine.on_risk(record, host=record["component"]):
                engine.on_outcome(outcome(cmd, "APPLIED"))
                out.append(cmd)
        else:
            engine.on_health(record)
        out.extend(engine.drain_outcomes())
    return out


def test_snapshot_round_trips_the_feedback_state() -> None:
    cfg = config(holdout=0.2, shrink_hold_s=300)
    steps, first = scenario(), AllocationEngine(cfg)
    done = play(first, steps[:8])
    assert any(o.get("effect") for o in done) and first.feedback.pending() > 0
    state = json.loads(json.dumps(first.snapshot()))
    assert state["version"] == 2 and state["feedback"]["wins"]
    second = AllocationEngine(cfg)
    second.restore(state)
    assert second.snapshot() == first.snapshot()
    assert play(first, steps[8:]) == play(second, steps[8:])
    assert first.tick(T0 + 20_000 * S) == second.tick(T0 + 20_000 * S)
    assert first.drain_outcomes() == second.drain_outcomes()
    assert [first.acted(f"web-{i}") for i in range(4)] == [
        second.acted(f"web-{i}") for i in range(4)]


def test_a_version_1_snapshot_is_read_with_nothing_learnt() -> None:
    engine = AllocationEngine(CFG)
    granted(engine, "a", T0)
    old = engine.snapshot()
    old["version"] = 1
    del old["feedback"]
    for lease in old["leases"]:  # the lease fields of version 1
        for name in ("metric", "threshold", "episode", "before", "horizon_s", "tracked",
                     "stepped"):
            del lease[name]
    restored = AllocationEngine(CFG)
    restored.restore(old)
    assert restored.leases()[0]["amount"] == engine.leases()[0]["amount"]
    assert restored.feedback.pending() == 0 and restored.acted("a") == []
    with pytest.raises(ContractError, match="version 3"):
        restored.restore({**old, "version": 3})
