"""One command id always means one command (issue #12): ids derive from the decision and the
command's whole content, so an actuator killed between sending and saving, that decides again on
redelivered risk from older state, can never re-send an old id with a different amount."""

from __future__ import annotations

import json
import random
from typing import Any

from actuators.contract import COMMAND_FIELDS, command_id, content_id, make_command
from actuators.engine import AllocationEngine
from tests.unit.test_engine import T0, S, config, risk


def grant(**over: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "cid": command_id("web-1/db", "CPU_WEIGHT", "GRANT", "1"), "component": "web-1/db",
        "host": "web-1", "ts": 1, "resource": "CPU_WEIGHT", "action": "GRANT", "amount": 200,
        "unit": "weight", "lease_s": 900, "reason": "test", "risk": 0.8, "priority": 580}
    args.update(over)
    return make_command(**args)


def test_the_same_decision_and_content_give_the_same_id() -> None:
    assert grant()["command_id"] == grant()["command_id"]
    assert grant()["command_id"] == content_id(command_id("web-1/db", "CPU_WEIGHT", "GRANT", "1"),
                                               grant())


def test_any_change_of_content_changes_the_id() -> None:
    base = grant()["command_id"]
    changes = {"amount": 201, "lease_s": 600, "ts": 2, "unit": "millicores", "host": "web-2",
               "resource": "CPU_QUOTA", "reason": "other", "risk": 0.81, "priority": 1,
               "component": "web-1/api", "action": "RELEASE",
               "cid": command_id("web-1/db", "CPU_WEIGHT", "GRANT", "2")}
    assert set(changes) >= set(COMMAND_FIELDS) - {"command_id"} | {"cid"}
    for name, value in changes.items():
        assert grant(**{name: value})["command_id"] != base, name


def fleet(seed: int) -> list[dict[str, Any]]:
    """Risk of four components of one host, jumping about: grants, renewals, releases and
    preemptions in a shared pool."""
    rnd = random.Random(seed)
    out = []
    for i in range(120):
        for c in ("h/a", "h/b", "h/c", "h/d"):
            v = min(0.99, max(0.01, 0.5 + 0.45 * rnd.uniform(-1, 1)))
            out.append(risk(c, T0 + i * 60 * S, v, upper=0.7 + 0.4 * v))
    return out


def life(engine: AllocationEngine, events: list[dict[str, Any]], tick_every: int,
         tick_ahead_ms: int) -> list[dict[str, Any]]:
    """Risk through the engine; a tick every ``tick_every`` events, ``tick_ahead_ms`` past the
    event (the actuator carries event time forward by the wall clock, which differs between
    one life and the next)."""
    cmds: list[dict[str, Any]] = []
    for n, e in enumerate(events):
        if n % tick_every == 0:
            cmds += engine.tick(e["ts"] + tick_ahead_ms)
        cmds += engine.on_risk(e, host="h")
    return cmds


def test_a_restarted_engine_never_reuses_an_id_for_another_command() -> None:
    """Life 1 saves its state after 200 events, goes on, and is killed; life 2 restores the
    saved state and decides again on the redelivered events, ticking at other times. Before ids
    covered the content, 449 ids over these 30 runs came back with another action or amount."""
    conflicting = 0
    for seed in range(30):
        events = fleet(seed)
        first = AllocationEngine(config())
        before = life(first, events[:200], 7, 0)
        saved = json.loads(json.dumps(first.snapshot()))
        lost = life(first, events[200:], 7, 0)  # sent, then the process died unsaved
        second = AllocationEngine(config())
        second.restore(saved)
        again = life(second, events[200:], 3, 120 * S)
        by_id: dict[str, set[str]] = {}
        for c in before + lost + again:
            by_id.setdefault(c["command_id"], set()).add(json.dumps(c, sort_keys=True))
        conflicting += sum(1 for v in by_id.values() if len(v) > 1)
    assert conflicting == 0


def test_the_same_decisions_again_are_the_same_commands() -> None:
    """Redelivered risk decided alike (same ticks) re-sends the very same ids: a backend,
    idempotent by id, acts once."""
    events = fleet(3)
    first = AllocationEngine(config())
    life(first, events[:200], 7, 0)
    saved = json.loads(json.dumps(first.snapshot()))
    lost = life(first, events[200:], 7, 0)
    second = AllocationEngine(config())
    second.restore(saved)
    assert lost and life(second, events[200:], 7, 0) == lost
