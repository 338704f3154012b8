"""The simulator is honest about time: per-resource provisioning delays, fast-onset demand
(flash crowds, morning peaks, a weekly pattern) and demand read from a trace file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streams.sim.incidents import DAY_MS, HOUR_MS, PLATFORMS, provisioning
from streams.sim.scenarios import NEEDS_DATA, SCENARIOS, scenario, scenario_names
from streams.sim.simulator import POOLS, Fleet

CPU = POOLS.index("cpu")


def _cmd(resource: str, amount: float, unit: str, cid: str, action: str = "GRANT",
         component: str = "web-01") -> dict[str, Any]:
    return {"command_id": cid, "component": component, "host": component.split("/")[0],
            "ts": 0, "resource": resource, "action": action, "amount": amount, "unit": unit,
            "lease_s": 0, "reason": "test", "risk": 0.9, "priority": 5}


def _quiet(platform: str = "k8s", seed: int = 3) -> Any:
    return scenario("ramp", seed=seed, duration_s=1800, incidents=(), platform=platform)


def _allocated_cpu(fleet: Fleet, steps: int) -> list[float]:
    """web-01's allocated cpu (base units, replicas included) after each of ``steps`` steps."""
    out = []
    for _ in range(steps):
        fleet.step()
        out.append(float(fleet.usage()["allocated"][0, CPU]))
    return out


# -- provisioning delays ----------------------------------------------------------------------
@pytest.mark.parametrize("platform", ["k8s", "aws"])
def test_a_replica_arrives_after_its_platforms_delay_then_warms_up(platform: str) -> None:
    prov = provisioning(platform, "REPLICAS")
    fleet = Fleet(_quiet(platform))
    t0 = fleet.now_ms()
    out = fleet.apply(_cmd("REPLICAS", 1, "replicas", "r1"))
    assert out["status"] == "APPLIED" and "acts in" in out["detail"]
    alloc = _allocated_cpu(fleet, 60)
    first = next(k for k, a in enumerate(alloc) if a > 1.0 + 1e-9)
    acted_s = (first + 1) * 10  # the step at which the new replica first serves
    assert prov.up_lo_s <= acted_s <= prov.up_hi_s + 10
    full = next(k for k, a in enumerate(alloc) if a >= 2.0 - 1e-9)
    assert (full - first) * 10 >= prov.warmup_s - 10  # it warms up, not all at once
    assert all(1.0 < a < 2.0 for a in alloc[first:full])
    assert alloc[:first] == [1.0] * first and alloc[-1] == pytest.approx(2.0)
    assert fleet.pending() == {} and fleet.grants() == {("web-01", "REPLICAS"): 1.0}
    log = fleet.ground_truth()["allocations"][0]
    assert log["effective_ms"] - t0 == pytest.approx(acted_s * 1000, abs=10_000)


def test_aws_instances_are_slower_than_pods_and_cgroup_knobs_take_ten_seconds() -> None:
    assert provisioning("k8s", "CPU_WEIGHT").up_hi_s == 10.0
    assert provisioning("aws", "REPLICAS").up_lo_s >= 180.0
    assert provisioning("aws", "REPLICAS").up_hi_s <= 300.0
    assert 60.0 <= provisioning("k8s", "REPLICAS").up_lo_s < provisioning("k8s",
                                                                           "REPLICAS").up_hi_s
    fleet = Fleet(_quiet())
    fleet.apply(_cmd("CPU_WEIGHT", 100, "weight", "w"))
    assert _allocated_cpu(fleet, 2) == pytest.approx([2.0, 2.0])  # from the next step on
    with pytest.raises(ValueError, match="platform"):
        scenario("ramp", platform="mainframe")
    assert set(PLATFORMS) == {"k8s", "aws", "instant"}


def test_instant_platform_keeps_the_old_model() -> None:
    fleet = Fleet(_quiet("instant"))
    fleet.apply(_cmd("REPLICAS", 1, "replicas", "r1"))
    assert _allocated_cpu(fleet, 1) == pytest.approx([2.0])


def test_the_delay_is_seeded_by_the_command_and_the_same_on_every_run() -> None:
    def acted(cid: str, seed: int = 3) -> int:
        fleet = Fleet(_quiet(seed=seed))
        fleet.apply(_cmd("REPLICAS", 1, "replicas", cid))
        return int(fleet.ground_truth()["allocations"][0]["effective_ms"] - fleet.now_ms())

    assert acted("a") == acted("a")
    delays = {acted(c) for c in "abcdefgh"}
    assert len(delays) > 1  # drawn per command, not one constant
    assert all(60_000 <= d <= 180_000 for d in delays)


def test_a_scale_down_acts_quickly_and_capacity_holds_until_a_grant_acts() -> None:
    fleet = Fleet(_quiet())
    fleet.apply(_cmd("REPLICAS", 2, "replicas", "up"))
    alloc = _allocated_cpu(fleet, 30)
    assert alloc[-1] == pytest.approx(3.0)
    fleet.apply(_cmd("REPLICAS", 0, "replicas", "down", action="RELEASE"))
    assert fleet.grants() == {} and fleet.pending()
    assert _allocated_cpu(fleet, 1) == pytest.approx([1.0])  # 10 s: gone at the next step
    assert fleet.pending() == {}


def test_a_larger_grant_during_provisioning_keeps_the_earlier_start() -> None:
    one, two = Fleet(_quiet()), Fleet(_quiet())
    one.apply(_cmd("REPLICAS", 1, "replicas", "first"))
    two.apply(_cmd("REPLICAS", 1, "replicas", "first"))
    two.step()
    one.step()
    two.apply(_cmd("REPLICAS", 3, "replicas", "bigger"))
    start = one.ground_truth()["allocations"][0]["effective_ms"]
    assert two.ground_truth()["allocations"][1]["effective_ms"] <= start
    a, b = _allocated_cpu(one, 40), _allocated_cpu(two, 40)
    arrival = [next(k for k, x in enumerate(y) if x > 1.0) for y in (a, b)]
    assert arrival[1] <= arrival[0]  # not later than the first one would have
    assert b[-1] == pytest.approx(4.0) and a[-1] == pytest.approx(2.0)


# -- fast-onset demand ------------------------------------------------------------------------
def _cpu(steps: list[list[dict[str, Any]]], component: str) -> np.ndarray:
    return np.array([s["metrics"]["cpu.util"] for st in steps for s in st
                     if s["component"] == component])


def test_a_flash_crowd_takes_the_web_from_normal_to_fail_in_about_two_minutes() -> None:
    sc = scenario("flash_crowd", seed=4)
    crowd = next(i for i in sc.incidents if i.component == "web-01")
    assert crowd.params["factor"] == 5.0 and crowd.params["ramp_s"] == 120.0
    fleet = Fleet(sc)
    steps = [fleet.step() for _ in range(int((crowd.start_ms - sc.start_ms) // 10_000) + 30)]
    cpu = _cpu(steps, "web-01")
    k = int((crowd.start_ms - sc.start_ms) // 10_000)
    assert cpu[k - 6:k].max() < 0.6  # normal the minute before
    assert cpu[k + 13:].min() >= 0.95  # saturated from about 2 minutes on
    truth = Fleet(sc)
    for _ in truth.run():
        pass
    inc = next(i for i in truth.ground_truth()["incidents"]
               if i["component"] == "web-01" and i["kind"] == "flash_crowd")
    assert inc["breach_ms"] - crowd.start_ms <= 150_000
    assert inc["breach_ms"] >= crowd.start_ms


def test_a_pulse_falls_back_and_ends() -> None:
    sc = scenario("flash_crowd", seed=4, duration_s=3 * 3600)
    crowd = next(i for i in sc.incidents if i.component == "web-01")
    fleet = Fleet(sc)
    steps = list(fleet.run(until_ms=crowd.end_ms + 600_000))
    cpu = _cpu(steps, "web-01")
    after = int((crowd.end_ms - sc.start_ms) // 10_000)
    assert cpu[after + 5:].max() < 0.6


@pytest.mark.parametrize("name", ["daily_peaks", "weekly"])
def test_mornings_ramp_steeply_every_day(name: str) -> None:
    sc = scenario(name, seed=2)
    fleet = Fleet(sc)
    step_ms = round(sc.step_s * 1000)
    steps = list(fleet.run(until_ms=sc.start_ms + 3 * DAY_MS))
    cpu = _cpu(steps, "web-01")

    def at(t_ms: int) -> float:
        return float(np.median(cpu[(t_ms - sc.start_ms) // step_ms - 3:
                                   (t_ms - sc.start_ms) // step_ms + 3]))

    for day in range(3):
        peak = next(i for i in sc.incidents if i.component == "web-01"
                    and sc.start_ms + day * DAY_MS <= i.start_ms < sc.start_ms + (day + 1) * DAY_MS)
        assert peak.params["ramp_s"] == 15 * 60.0  # Monday to Wednesday: working days
        before = at(peak.start_ms - 10 * 60_000)
        assert at(peak.start_ms + 20 * 60_000) >= 2.5 * before  # within 20 minutes


def test_the_weekly_pattern_differs_by_weekday() -> None:
    sc = scenario("weekly", seed=2)
    assert sc.duration_s == 7 * 86_400 and sc.step_s == 60.0
    web = [i for i in sc.incidents if i.component == "web-01"]
    assert len(web) == 7
    factors = [i.params["factor"] for i in web]
    assert factors[0] > factors[1] == factors[2] == factors[3] > factors[4] > factors[5]
    assert factors[5] == factors[6] and web[5].params["ramp_s"] == 3600.0  # slow weekend
    assert all(int((i.start_ms - sc.start_ms) % DAY_MS) // HOUR_MS in (7, 8) for i in web[:5])


# -- trace-driven demand ----------------------------------------------------------------------
def _long_csv(path: Path) -> Path:
    rows = ["ts,component,metric,value"]
    t0 = 1_700_000_000
    for k in range(0, 48):  # 4 hours at 5 minutes
        ts = t0 + 300 * k
        cpu = 1000.0 if k < 24 else 3000.0  # a step: a quarter of the CPU, then three quarters
        rows += [f"{ts},vm-a,cpu,{cpu}", f"{ts},vm-a,mem,{2**20 * (1 + k / 48)}",
                 f"{ts},vm-a,cpu.capacity,4000", f"{ts},vm-a,mem.capacity,{4 * 2**20}",
                 f"{ts},vm-b,cpu,500", f"{ts},vm-b,mem,{2**19}"]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_trace_scenario_replays_the_traces_demand(tmp_path: Path) -> None:
    data = _long_csv(tmp_path / "fleet.csv")
    sc = scenario("trace", seed=1, data=str(data), duration_s=4 * 3600 - 600)
    assert [c.id for c in sc.components] == ["vm-vm-a", "vm-vm-b"]
    assert sc.start_ms == 1_700_000_000 // 60 * 60 * 1000 and sc.incidents == ()
    a = sc.components[0]
    assert a.cores == pytest.approx(4000 / 2926) and a.mem_gib == pytest.approx(4.0)
    fleet = Fleet(sc)
    steps = list(fleet.run())
    cpu = _cpu(steps, "vm-vm-a")
    assert np.median(cpu[:90]) == pytest.approx(0.25, rel=0.05)
    assert np.median(cpu[-60:]) == pytest.approx(0.75, rel=0.05)
    mem = np.array([s["metrics"]["mem.used_pct"] for st in steps for s in st
                    if s["component"] == "vm-vm-a"])
    assert mem[0] == pytest.approx(25.0, abs=2) and mem[-1] > 40.0
    b = _cpu(steps, "vm-vm-b")  # no capacity columns: sized at its peak demand
    assert np.median(b) == pytest.approx(1.0, rel=0.1)
    again = Fleet(sc)
    assert [again.step() for _ in range(20)] == steps[:20]


def test_the_trace_scenario_needs_its_data_and_all_leaves_it_out() -> None:
    assert "trace" in SCENARIOS and "trace" in NEEDS_DATA
    with pytest.raises(ValueError, match="data="):
        scenario("trace")
    assert "trace" not in scenario_names("all")
    assert "trace" in scenario_names("all", data="somewhere")
    assert {"flash_crowd", "daily_peaks", "weekly"} <= set(scenario_names("all"))
    with pytest.raises(ValueError, match="unknown scenario"):
        scenario_names("nope")
    assert scenario_names("ramp, weekly") == ["ramp", "weekly"]
    with pytest.raises(ValueError, match="unknown scenario"):
        scenario_names("ramp,nope")


def test_the_shared_bitbrains_traces_drive_a_scenario() -> None:
    data = Path(__file__).resolve().parents[3] / "shared" / "data" / "bitbrains" / "rnd"
    if not data.is_dir():
        pytest.skip(f"{data} is not here")
    sc = scenario("trace", data=str(data), vms=3, duration_s=3600)
    assert [c.id for c in sc.components] == ["vm-2013-7-1", "vm-2013-7-2", "vm-2013-7-3"]
    fleet = Fleet(sc)
    steps = list(fleet.run())
    assert len(steps) == 60 and all(len(s) == 3 for s in steps)
    assert all(0.0 <= s["metrics"]["cpu.util"] <= 1.0 for st in steps for s in st)
