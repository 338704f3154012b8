"""What a writer with access to ``forewarn.risk`` can make the engine do (issue #12): forged
risk 1.0 for a real component obtains at most ``max_component_share`` of its host per resource,
and forged host names open at most ``max_new_hosts`` new hosts per window. Pure, on the engine
(the live counterpart on the broker: tests/integration/test_hardening_live.py)."""

from __future__ import annotations

from typing import Any

import pytest

from actuators.engine import AllocationEngine, EngineConfig
from schemas.errors import ConfigError

T0 = 1_750_000_000_000 - 1_750_000_000_000 % 60_000
MIN = 60_000


def _risk(component: str, ts: int, value: float = 1.0) -> dict[str, Any]:
    return {
        "component": component, "ts": ts, "risk": value, "anomaly": 0.5, "horizon_s": 900,
        "breach": {"metric": "cpu.util", "threshold": 0.9, "eta_s": 300.0, "probability": value},
        "forecasts": [{"metric": "cpu.util", "horizon_s": 300, "mean": 3.0, "lower": 2.0,
                       "upper": 5.0}],  # an absurd forecast: asks for all the growth it may
        "contributors": {},
        "model": {"version": "t", "samples_seen": 100, "warm": True, "source": "component"},
    }


def _forge_for_10_minutes(engine: AllocationEngine) -> dict[str, float]:
    """Risk 1.0 for h1/real every 10 s of event time, 10 min: the largest lease per resource."""
    most: dict[str, float] = {}
    for i in range(61):
        engine.on_risk(_risk("h1/real", T0 + i * 10_000), host="h1")
        for lease in engine.leases():
            most[lease["resource"]] = max(most.get(lease["resource"], 0.0), lease["amount"])
    return most


def test_forged_risk_gets_at_most_the_component_share_of_its_host() -> None:
    cfg = EngineConfig(holdout=0.0, cooldown_s=60, max_changes_per_hour=20)
    engine = AllocationEngine(cfg)
    most = _forge_for_10_minutes(engine)
    assert most, "the forged risk got a grant"
    for resource, amount in most.items():
        cap = cfg.max_component_share * engine.capacity("h1", resource)
        assert 0 < amount <= cap, (resource, amount, cap)
    # the same stream without the cap (share 1: only the pool bounds it) takes more
    unbounded = _forge_for_10_minutes(AllocationEngine(
        EngineConfig(holdout=0.0, cooldown_s=60, max_changes_per_hour=20,
                     max_component_share=1.0)))
    assert max(unbounded.values()) > max(most.values())


def test_the_share_cap_follows_a_host_capacity_override() -> None:
    cfg = EngineConfig(holdout=0.0, max_component_share=0.1,
                       host_capacity={"h1": {"CPU_WEIGHT": 2000.0, "CPU_QUOTA": 4000.0}})
    engine = AllocationEngine(cfg)
    _forge_for_10_minutes(engine)
    for lease in engine.leases():
        assert lease["amount"] <= 0.1 * engine.capacity("h1", lease["resource"])


def test_a_share_cap_below_the_smallest_grant_leaves_the_resource_unused() -> None:
    # CPU_QUOTA's smallest grant is 50 millicores: 0.005 of 8000 (40) cannot hold one
    cfg = EngineConfig(holdout=0.0, max_component_share=0.005)
    engine = AllocationEngine(cfg)
    _forge_for_10_minutes(engine)
    assert {lease["resource"] for lease in engine.leases()} <= {"CPU_WEIGHT"}


def test_forged_hosts_are_capped_per_window_with_a_counter() -> None:
    cfg = EngineConfig(holdout=0.0, max_new_hosts=5, new_host_window_s=3600)
    engine = AllocationEngine(cfg)
    for h in range(20):  # the first hour: a fresh actuator learns its fleet, not capped
        engine.on_risk(_risk(f"real-{h}/svc", T0 + h * MIN, 0.1), host=f"real-{h}")
    assert engine.refused_hosts == 0
    later = T0 + 2 * 3_600_000
    # 300 forged hosts, stamps spread back in time to dodge the window
    for i in range(300):
        engine.on_risk(_risk(f"forged-{i}/x", later - i * 3_600_000), host=f"forged-{i}")
    assert engine.refused_hosts == 295
    hosts = {lease["host"] for lease in engine.leases()}
    assert len(hosts - {f"real-{h}" for h in range(20)}) <= 5
    # a host known before takes its new component; the window reopens an hour later
    assert engine.on_risk(_risk("real-3/new", later + MIN), host="real-3")
    assert engine.on_risk(_risk("late/svc", later + 3_600_000 + MIN), host="late")
    assert engine.refused_hosts == 295


def test_the_new_host_cap_off_takes_every_host() -> None:
    engine = AllocationEngine(EngineConfig(holdout=0.0, max_new_hosts=0))
    for i in range(300):
        engine.on_risk(_risk(f"h{i}/x", T0 + 7_200_000 + i), host=f"h{i}")
    assert engine.refused_hosts == 0 and len(engine.leases()) >= 290


@pytest.mark.parametrize("bad", [{"max_component_share": 0.0}, {"max_component_share": 1.5},
                                 {"max_new_hosts": -1}, {"new_host_window_s": 0}])
def test_bad_bounds_are_one_config_error(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="EngineConfig"):
        EngineConfig(**bad)
