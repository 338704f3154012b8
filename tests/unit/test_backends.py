"""Backends: one apply per command_id, ownership by glob, outcomes that fit the contract."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actuators.backends import (
    Backend,
    DryRunBackend,
    IdempotentBackend,
    OutcomeCache,
    Ownership,
    make_outcome,
)
from schemas.codec import Codec
from schemas.errors import BackendError

CODEC = Codec()


def command(cid: str = "c1", **kw: Any) -> dict[str, Any]:
    base = {
        "command_id": cid,
        "component": "web-1/db",
        "host": "web-1",
        "ts": 1_700_000_000_000,
        "resource": "CPU_WEIGHT",
        "action": "GRANT",
        "amount": 200.0,
        "unit": "weight",
        "lease_s": 900,
        "reason": "test",
        "risk": 0.8,
        "priority": 580,
    }
    return {**base, **kw}


def assert_outcome_contract(outcome: dict[str, Any]) -> None:
    fields = [f["name"] for f in CODEC.schema("AllocationOutcome").parsed["fields"]]
    assert sorted(outcome) == sorted(fields)
    assert CODEC.decode(CODEC.encode("AllocationOutcome", outcome))[1] == outcome


def test_dry_run_applies_keeps_state_and_fits_the_contract() -> None:
    backend = DryRunBackend()
    assert isinstance(backend, Backend)
    out = backend.apply(command())
    assert_outcome_contract(out)
    assert (out["status"], out["backend"], out["effect"]) == ("APPLIED", "dryrun", None)
    assert out["command_id"] == "c1" and out["ts"] == command()["ts"]
    backend.apply(command("c2", amount=300.0))  # a grant replaces, it does not add
    backend.apply(command("c3", resource="MEMORY_HIGH", amount=512.0, unit="MiB"))
    assert backend.state() == {("web-1/db", "CPU_WEIGHT"): 300.0,
                               ("web-1/db", "MEMORY_HIGH"): 512.0}
    backend.apply(command("c4", action="RELEASE", lease_s=0))
    backend.apply(command("c5", action="PREEMPT", resource="MEMORY_HIGH", unit="MiB"))
    assert backend.state() == {} and backend.actions == 5


def test_repeated_command_id_returns_the_stored_outcome_without_acting() -> None:
    backend = DryRunBackend()
    first = backend.apply(command())
    backend.apply(command("c2", action="RELEASE"))
    again = backend.apply(command())  # a redelivery must not grant a second time
    assert again == first and backend.actions == 2 and backend.state() == {}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 8),  # command id: repeats are likely
            st.sampled_from(["GRANT", "RELEASE", "PREEMPT"]),
            st.sampled_from(["web-1", "web-2", "db-1"]),
            st.integers(1, 500),
        ),
        max_size=40,
    )
)
def test_each_command_id_acts_once_and_answers_alike(
    steps: list[tuple[int, str, str, int]],
) -> None:
    backend = DryRunBackend(hosts=("web-*",), cache_size=9)
    first: dict[str, dict[str, Any]] = {}
    acted: set[str] = set()
    for n, action, host, amount in steps:
        cid = f"c{n}"
        cmd = command(cid, action=action, host=host, amount=float(amount))
        out = backend.apply(cmd)
        assert_outcome_contract(out)
        if cid in first:  # a replay with the same id gets the first answer, whatever it carries
            assert out == first[cid]
            continue
        first[cid] = out
        if host.startswith("web-"):
            assert out["status"] == "APPLIED"
            acted.add(cid)
        else:
            assert out["status"] == "REJECTED" and "db-1" in out["detail"]
    assert backend.actions == len(acted)


def test_ownership_by_host_and_component_globs() -> None:
    backend = DryRunBackend(hosts=("web-*",), components=("*/db",))
    assert backend.owns(command())
    not_host = backend.apply(command("c2", host="db-1"))
    assert not_host["status"] == "REJECTED" and "host 'db-1' is not owned" in not_host["detail"]
    not_comp = backend.apply(command("c3", component="web-1/cache"))
    assert not_comp["status"] == "REJECTED" and "web-1/cache" in not_comp["detail"]
    assert backend.actions == 0
    assert Ownership().owns(command(host="anything"))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"resource": "GPU"}, "unknown resource"),
        ({"action": "GROW"}, "unknown action"),
        ({"amount": float("nan")}, "amount"),
        ({"amount": float("-inf")}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": "lots"}, "amount"),
    ],
)
def test_malformed_commands_are_rejected_with_the_reason(change: dict[str, Any],
                                                         why: str) -> None:
    backend = DryRunBackend()
    out = backend.apply(command(**change))
    assert out["status"] == "REJECTED" and why in out["detail"]
    missing = command("c9")
    del missing["host"]
    assert "lacks host" in backend.apply(missing)["detail"]
    assert backend.actions == 0


def test_negative_grant_is_a_scale_down_below_the_baseline() -> None:
    backend = DryRunBackend()
    out = backend.apply(command("s1", amount=-250.0, resource="CPU_QUOTA", unit="millicores"))
    assert_outcome_contract(out)
    assert out["status"] == "APPLIED" and "250 millicores below its baseline" in out["detail"]
    assert backend.state() == {("web-1/db", "CPU_QUOTA"): -250.0}
    backend.apply(command("s2", action="RELEASE", amount=-250.0, resource="CPU_QUOTA",
                          unit="millicores", lease_s=0))
    assert backend.state() == {} and backend.actions == 2


class Flaky(IdempotentBackend):
    """Fails the first ``failures`` applications, then applies."""

    name = "flaky"

    def __init__(self, failures: int, error: type[Exception] = BackendError) -> None:
        super().__init__()
        self.failures, self.error, self.calls = failures, error, 0

    def _execute(self, command: Mapping[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"cgroup write failed for {command['component']}")
        return make_outcome(command["command_id"], command["component"], command["ts"],
                            "APPLIED", "done", self.name)


def test_failures_become_outcomes_and_are_not_cached() -> None:
    backend = Flaky(failures=1)
    failed = backend.apply(command())
    assert failed["status"] == "FAILED" and "cgroup write failed" in failed["detail"]
    assert backend.apply(command())["status"] == "APPLIED"  # a redelivery may try again
    assert backend.apply(command())["status"] == "APPLIED" and backend.calls == 2


def test_unexpected_errors_are_failed_outcomes_too(caplog: pytest.LogCaptureFixture) -> None:
    backend = Flaky(failures=1, error=RuntimeError)
    out = backend.apply(command())
    assert out["status"] == "FAILED" and out["detail"].startswith("RuntimeError")
    assert "raised" in caplog.text


def test_outcome_cache_is_bounded_least_recently_used_first() -> None:
    cache = OutcomeCache(maxsize=2)
    for cid in ("a", "b"):
        cache.put(cid, {"command_id": cid})
    assert cache.get("a") == {"command_id": "a"}  # a is now the most recent
    cache.put("c", {"command_id": "c"})
    assert "b" not in cache and "a" in cache and "c" in cache and len(cache) == 2
    with pytest.raises(ValueError):
        OutcomeCache(0)


def test_make_outcome_refuses_unknown_status() -> None:
    with pytest.raises(ValueError, match="status"):
        make_outcome("c", "x", 0, "DONE", "", "t")
