"""The allocation contract in the core: how an ``AllocationCommand`` and an
``AllocationOutcome`` are built and checked. The engine, the peers and every backend build their
records here, so the fields cannot drift between them (``schemas/avro/`` holds the wire schemas).

>>> cmd = make_command(command_id("web-1", "CPU_WEIGHT", "GRANT", "1"), "web-1", "web-1", 1,
...                    "CPU_WEIGHT", "GRANT", 200, "weight", 900, "test", 0.8, 580)
>>> command_problem(cmd) is None, cmd["amount"]
(True, 200.0)
>>> command_problem({**cmd, "amount": float("nan")})
'amount nan is not a finite number'
>>> make_outcome(cmd["command_id"], "web-1", 2, "APPLIED", "ok", "dryrun")["status"]
'APPLIED'
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

from actuators.pool import RESOURCES

Record = dict[str, Any]
ACTIONS = ("GRANT", "RELEASE", "PREEMPT")
STATUSES = ("APPLIED", "FAILED", "DEFERRED", "PREEMPTED", "EXPIRED", "REVERTED", "REJECTED")
COMMAND_FIELDS = (
    "command_id",
    "component",
    "host",
    "ts",
    "resource",
    "action",
    "amount",
    "unit",
    "lease_s",
    "reason",
    "risk",
    "priority",
)


def command_id(component: str, resource: str, action: str, key: str) -> str:
    """The key of a decision: which component, resource and action, on which event. A
    command's own id (:func:`content_id`) hashes this key with everything the command says."""
    return hashlib.sha1(f"{component}|{resource}|{action}|{key}".encode()).hexdigest()


def content_id(decision: str, command: Mapping[str, Any]) -> str:
    """The ``command_id`` a command carries: its decision key and every other field of the
    contract, hashed together. One id therefore always means one command: an actuator killed
    between sending a command and saving its state, that decides again on the redelivered
    event, re-sends the same id when it decides the same (the backend acts once), and a new id
    when it decides differently (a GRANT sets the lease, so the backend follows the engine),
    never the old id with a different amount."""
    body = "|".join(f"{k}={command[k]!r}" for k in COMMAND_FIELDS if k != "command_id")
    return hashlib.sha1(f"{decision}|{body}".encode()).hexdigest()


def make_command(cid: str, component: str, host: str, ts: int, resource: str, action: str,
                 amount: float, unit: str, lease_s: int, reason: str, risk: float,
                 priority: int) -> Record:
    """An ``AllocationCommand`` record with exactly the contract's fields; ``cid`` is the
    decision key (:func:`command_id`), and the record's id is :func:`content_id` of it."""
    cmd = {
        "command_id": cid,
        "component": component,
        "host": host,
        "ts": int(ts),
        "resource": resource,
        "action": action,
        "amount": float(amount),
        "unit": unit,
        "lease_s": int(lease_s),
        "reason": reason,
        "risk": float(risk),
        "priority": int(priority),
    }
    cmd["command_id"] = content_id(cid, cmd)
    return cmd


def make_outcome(
    command_id: str,
    component: str,
    ts: int,
    status: str,
    detail: str,
    backend: str,
    effect: Mapping[str, Any] | None = None,
) -> Record:
    """An ``AllocationOutcome`` record with exactly the contract's fields."""
    if status not in STATUSES:
        raise ValueError(f"outcome status {status!r}: use one of {', '.join(STATUSES)}")
    return {
        "command_id": command_id,
        "component": component,
        "ts": int(ts),
        "status": status,
        "detail": detail,
        "backend": backend,
        "effect": dict(effect) if effect is not None else None,
    }


def command_problem(command: Mapping[str, Any]) -> str | None:
    """Why ``command`` is not a valid ``AllocationCommand``, or None if it is."""
    missing = [f for f in COMMAND_FIELDS if f not in command]
    if missing:
        return f"command lacks {', '.join(missing)}"
    if command["resource"] not in RESOURCES:
        return f"unknown resource {command['resource']!r}"
    if command["action"] not in ACTIONS:
        return f"unknown action {command['action']!r}"
    amount = command["amount"]
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(
        amount
    ):
        return f"amount {amount!r} is not a finite number"
    return None
