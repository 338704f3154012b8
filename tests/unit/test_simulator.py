"""The simulated fleet: determinism, incidents that really breach, the closed loop, the contract."""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import fastavro
import pytest
from fastavro.validation import validate
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.sim.simulator import (
    FAIL_THRESHOLDS,
    HOST_HEADROOM,
    KINDS,
    METRICS,
    MIN_CAPACITY,
    POOLS,
    SCENARIOS,
    Fleet,
    Scenario,
    bench,
    scenario,
    to_batches,
    write_ground_truth,
)

ROOT = Path(__file__).resolve().parents[2]
# Well inside PASS: what "normal" means before an incident's onset.
NORMAL_MAX = {
    "cpu.util": 0.8,
    "mem.used_pct": 85.0,
    "disk.used_pct": 85.0,
    "disk.io_util": 0.8,
    "net.util": 0.8,
    "latency.p99_ms": 600.0,
    "errors.rate": 0.02,
}


def _schema(name: str) -> Any:
    return fastavro.parse_schema(json.loads((ROOT / "schemas/avro" / f"{name}.avsc").read_text()))


def _cmd(
    component: str,
    resource: str = "CPU_QUOTA",
    amount: float = 4.0,
    unit: str = "cores",
    action: str = "GRANT",
    lease_s: int = 7200,
    cid: str = "cmd-1",
) -> dict[str, Any]:
    cmd = {
        "command_id": cid,
        "component": component,
        "host": component.split("/")[0],
        "ts": 0,
        "resource": resource,
        "action": action,
        "amount": amount,
        "unit": unit,
        "lease_s": lease_s,
        "reason": "test",
        "risk": 0.9,
        "priority": 5,
    }
    assert validate(cmd, _schema("AllocationCommand"), raise_errors=True)
    return cmd


def _run(
    sc: Scenario, commands: Sequence[tuple[int, dict[str, Any]]] = ()
) -> tuple[Fleet, list[list[dict[str, Any]]]]:
    """Run to the end, applying each command when the fleet's clock reaches its time."""
    fleet, steps = Fleet(sc), []
    while not fleet.done():
        for at, cmd in commands:
            if at == fleet.now_ms():
                fleet.apply(cmd)
        steps.append(fleet.step())
    return fleet, steps


def _on_grid(sc: Scenario, t_ms: int) -> int:
    step = round(sc.step_s * 1000)
    return sc.start_ms + (t_ms - sc.start_ms) // step * step


def _series(steps: list[list[dict[str, Any]]], component: str, metric: str) -> list[float]:
    return [s["metrics"][metric] for step in steps for s in step if s["component"] == component]


# -- determinism ----------------------------------------------------------------------------
def test_same_seed_gives_identical_samples_and_another_seed_does_not() -> None:
    def first(seed: int) -> list[list[dict[str, Any]]]:
        fleet = Fleet(scenario("ramp", seed=seed))
        return [fleet.step() for _ in range(100)]

    assert first(5) == first(5)
    assert first(5) != first(6)
    assert scenario("mixed", seed=3) == scenario("mixed", seed=3)


def test_samples_cover_every_component_and_metric_at_each_step() -> None:
    sc = scenario("mixed", seed=1)
    fleet = Fleet(sc)
    step = fleet.step()
    assert [s["component"] for s in step] == [c.id for c in sc.components]
    assert {s["ts"] for s in step} == {sc.start_ms + 10_000} == {fleet.now_ms()}
    assert all(set(s["metrics"]) == set(METRICS) for s in step)
    assert next(s for s in step if s["component"] == "db-01/postgres")["host"] == "db-01"


# -- incidents ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_incident_kind_breaches_and_is_normal_before_onset(kind: str) -> None:
    sc = scenario(kind, seed=11)
    fleet, steps = _run(sc)
    truth = fleet.ground_truth()
    (inc,) = truth["incidents"]
    assert inc["kind"] == kind and inc["threshold"] == FAIL_THRESHOLDS[inc["metric"]]
    assert inc["start_ms"] <= inc["onset_ms"] < inc["breach_planned_ms"]
    assert inc["breach_ms"] is not None, f"{kind} never crossed {inc['metric']}"
    ramp_ms = inc["breach_planned_ms"] - inc["start_ms"]
    assert abs(inc["breach_ms"] - inc["breach_planned_ms"]) <= 0.2 * ramp_ms
    before = [
        s["metrics"]
        for step in steps
        for s in step
        if s["component"] == inc["component"] and s["ts"] < inc["onset_ms"]
    ]
    assert before
    for metric, limit in NORMAL_MAX.items():
        assert max(m[metric] for m in before) < limit, metric
    first_fail = min(
        iv[0]
        for c in truth["components"].values()
        for ivs in c["fail_intervals"].values()
        for iv in ivs
    )
    assert first_fail >= inc["onset_ms"]


def test_breach_is_read_from_the_series() -> None:
    sc = scenario("memory_leak_linear", seed=2)
    fleet, steps = _run(sc)
    inc = fleet.ground_truth()["incidents"][0]
    ts = [step[0]["ts"] for step in steps]
    values = _series(steps, inc["component"], inc["metric"])
    first = next(t for t, v in zip(ts, values, strict=True) if v >= inc["threshold"])
    assert inc["breach_ms"] == first


def test_mixed_day_has_one_breaching_incident_of_each_kind() -> None:
    sc = scenario("mixed", seed=42)
    assert len(sc.components) == 12 and sc.duration_s == 86_400
    fleet, _ = _run(sc)
    incidents = fleet.ground_truth()["incidents"]
    assert sorted(i["kind"] for i in incidents) == sorted(KINDS)
    assert all(i["breach_ms"] is not None for i in incidents)


def test_cascading_failure_reaches_the_apps() -> None:
    fleet, _ = _run(scenario("cascading_failure", seed=4))
    inc = fleet.ground_truth()["incidents"][0]
    hit = {(i["component"], i["metric"]) for i in inc["impacts"]}
    assert ("app-01/api", "latency.p99_ms") in hit
    assert all(i["breach_ms"] >= inc["start_ms"] for i in inc["impacts"])


# -- closed loop ----------------------------------------------------------------------------
def test_a_cpu_grant_early_in_the_ramp_avoids_the_breach() -> None:
    sc = scenario("ramp", seed=42)
    inc = sc.incidents[0]
    plain, plain_steps = _run(sc)
    assert plain.ground_truth()["incidents"][0]["breach_ms"] is not None
    at = _on_grid(sc, inc.onset_ms)
    helped, helped_steps = _run(sc, [(at, _cmd(inc.component))])
    truth = helped.ground_truth()
    assert truth["incidents"][0]["breach_ms"] is None
    assert truth["allocations"][0]["command_id"] == "cmd-1"
    n_before = (at - sc.start_ms) // 10_000
    assert plain_steps[:n_before] == helped_steps[:n_before]
    assert plain_steps[n_before:] != helped_steps[n_before:]


def test_a_small_cpu_grant_delays_the_breach() -> None:
    sc = scenario("ramp", seed=42)
    inc = sc.incidents[0]
    plain, _ = _run(sc)
    helped, _ = _run(sc, [(_on_grid(sc, inc.onset_ms), _cmd(inc.component, amount=20, unit="pct"))])
    before = plain.ground_truth()["incidents"][0]["breach_ms"]
    after = helped.ground_truth()["incidents"][0]["breach_ms"]
    assert after is not None and after > before


@pytest.mark.parametrize(
    ("kind", "resource", "amount", "unit"),
    [
        ("load_surge", "CPU_WEIGHT", 100, "weight"),
        ("load_surge", "REPLICAS", 1, "replicas"),
        ("memory_leak_linear", "MEMORY_HIGH", 8, "GiB"),
        ("network_saturation", "REPLICAS", 1, "replicas"),
        ("noisy_neighbour", "REPLICAS", 1, "replicas"),
    ],
)
def test_each_resource_relieves_its_metric(
    kind: str, resource: str, amount: float, unit: str
) -> None:
    sc = scenario(kind, seed=8)
    inc = sc.incidents[0]
    at = _on_grid(sc, inc.onset_ms)
    plain, plain_steps = _run(sc)
    cmd = _cmd(inc.component, resource, amount, unit, lease_s=6 * 3600)
    helped, helped_steps = _run(sc, [(at, cmd)])
    i = (_on_grid(sc, inc.breach_planned_ms) - sc.start_ms) // 10_000 - 1
    a = _series(plain_steps, inc.component, inc.metric)[i]
    b = _series(helped_steps, inc.component, inc.metric)[i]
    assert b < a
    assert helped.ground_truth()["incidents"][0]["breach_ms"] is None


@pytest.mark.parametrize(
    ("kind", "resource", "amount", "unit"),
    [
        ("network_saturation", "NET_BANDWIDTH", 10, "Gbit/s"),
        ("noisy_neighbour", "IO_WEIGHT", 100, "weight"),
    ],
)
def test_the_link_and_the_disk_are_the_hosts_no_knob_adds_to_them(
    kind: str, resource: str, amount: float, unit: str
) -> None:
    sc = scenario(kind, seed=8)
    inc = sc.incidents[0]
    _, plain_steps = _run(sc)
    _, helped_steps = _run(sc, [(_on_grid(sc, inc.onset_ms), _cmd(
        inc.component, resource, amount, unit, lease_s=6 * 3600))])
    assert _series(helped_steps, inc.component, inc.metric) == _series(
        plain_steps, inc.component, inc.metric)


def test_a_cgroup_grant_stops_at_what_the_host_has_left() -> None:
    fleet = Fleet(scenario("ramp", seed=1))  # web-01: 4 cores, 8 GiB on a host of its own
    fleet.step()
    for cid, res, amount, unit in (("c", "CPU_WEIGHT", 500, "weight"),
                                   ("m", "MEMORY_HIGH", 50, "GiB")):
        assert fleet.apply(_cmd("web-01", res, amount, unit) | {"command_id": cid}
                           )["status"] == "APPLIED"
    fleet.step()
    fleet.step()
    alloc = fleet.usage()["allocated"][0]  # cpu, mem, io, net in units of the base
    assert alloc[0] == pytest.approx(HOST_HEADROOM["cpu"])  # +500 % asked, the host has 2x
    assert alloc[1] == pytest.approx(HOST_HEADROOM["mem"])
    assert fleet.grants()[("web-01", "CPU_WEIGHT")] == 5.0  # the lease records what was asked


def test_replicas_are_ready_after_their_delay_and_bring_whole_pods() -> None:
    fleet = Fleet(scenario("ramp", seed=1))
    fleet.step()
    fleet.apply(_cmd("web-01", "REPLICAS", 2, "replicas") | {"command_id": "r"})
    fleet.step()
    assert fleet.replicas()["web-01"] == (1, 3)  # commanded, not ready (60-180 s)
    for _ in range(18):
        fleet.step()
    assert fleet.replicas()["web-01"] == (3, 3)
    assert fleet.usage()["allocated"][0][1] == pytest.approx(3.0)  # memory of 3 pods


def test_apply_is_idempotent_by_command_id() -> None:
    sc = scenario("ramp", seed=3)
    once, twice = Fleet(sc), Fleet(sc)
    cmd = _cmd("web-01", amount=1.0)
    first = once.apply(cmd)
    assert twice.apply(cmd) == first == twice.apply(dict(cmd))
    assert first["status"] == "APPLIED" and first["backend"] == "simulator"
    assert first["effect"]["metric"] == "cpu.util" and first["effect"]["after"] is None
    assert validate(first, _schema("AllocationOutcome"), raise_errors=True)
    assert [once.step() for _ in range(30)] == [twice.step() for _ in range(30)]


def test_release_and_preempt_take_the_grant_back() -> None:
    sc = scenario("load_surge", seed=5)
    plain, granted = Fleet(sc), Fleet(sc)
    granted.apply(_cmd("web-01", cid="g"))
    a = [plain.step() for _ in range(5)]
    b = [granted.step() for _ in range(5)]
    assert _series(a, "web-01", "cpu.util") != _series(b, "web-01", "cpu.util")
    out = granted.apply(_cmd("web-01", action="RELEASE", amount=0, cid="r"))
    assert out["status"] == "APPLIED"
    assert _series([plain.step()], "web-01", "cpu.util") == _series(
        [granted.step()], "web-01", "cpu.util"
    )
    granted.apply(_cmd("web-01", amount=2, cid="g2"))
    granted.apply(_cmd("web-01", action="PREEMPT", amount=2, cid="p"))
    assert _series([plain.step()], "web-01", "cpu.util") == _series(
        [granted.step()], "web-01", "cpu.util"
    )


def test_a_grant_replaces_the_previous_grant() -> None:
    sc = scenario("load_surge", seed=5)
    twice, once = Fleet(sc), Fleet(sc)
    twice.apply(_cmd("web-01", amount=4, cid="big"))
    twice.apply(_cmd("web-01", amount=1, cid="small"))
    once.apply(_cmd("web-01", amount=1, cid="only"))
    assert twice.grants() == once.grants() == {("web-01", "CPU_QUOTA"): pytest.approx(0.25)}
    assert [twice.step() for _ in range(5)] == [once.step() for _ in range(5)]
    # another resource of the same pool is a lease of its own: the two add up (to the host's)
    twice.apply(_cmd("web-01", "CPU_WEIGHT", 50, "weight", cid="w"))
    twice.step()
    assert twice.usage()["allocated"][0, POOLS.index("cpu")] == pytest.approx(1.75)


def test_a_release_takes_the_whole_lease_back_whatever_its_amount() -> None:
    sc = scenario("load_surge", seed=5)
    plain, granted = Fleet(sc), Fleet(sc)
    granted.apply(_cmd("web-01", amount=3, cid="g"))
    out = granted.apply(_cmd("web-01", action="RELEASE", amount=1, cid="r"))
    assert out["status"] == "APPLIED" and "back to base" in out["detail"]
    assert granted.grants() == {}
    assert [plain.step() for _ in range(3)] == [granted.step() for _ in range(3)]


def test_a_negative_grant_scales_down_to_the_floor() -> None:
    sc = scenario("ramp", seed=2, duration_s=600, incidents=())
    plain, half, floor = Fleet(sc), Fleet(sc), Fleet(sc)
    half.apply(_cmd("web-01", "CPU_WEIGHT", -50, "weight", cid="h"))
    half.apply(_cmd("web-01", "MEMORY_HIGH", -50, "pct", cid="m"))
    floor.apply(_cmd("web-01", "CPU_WEIGHT", -500, "weight", cid="f"))
    a, b, c = plain.step(), half.step(), floor.step()
    cpu = [_series([x], "web-01", "cpu.util")[0] for x in (a, b, c)]
    assert cpu[1] == pytest.approx(2 * cpu[0]) and cpu[2] == pytest.approx(min(10 * cpu[0], 1))
    mem = [_series([x], "web-01", "mem.used_pct")[0] for x in (a, b)]
    assert mem[1] == pytest.approx(min(2 * mem[0], 100.0))
    j_cpu, j_mem = POOLS.index("cpu"), POOLS.index("mem")
    assert half.usage()["allocated"][0, [j_cpu, j_mem]].tolist() == pytest.approx([0.5, 0.5])
    assert floor.usage()["allocated"][0, j_cpu] == pytest.approx(MIN_CAPACITY)
    assert plain.usage()["allocated"].tolist() == [[1.0] * len(POOLS)] * len(sc.components)


def test_usage_is_accounted_per_step_in_base_units() -> None:
    sc = scenario("ramp", seed=2, duration_s=600)
    fleet = Fleet(sc)
    fleet.apply(_cmd("web-02", "CPU_WEIGHT", 100, "weight", cid="w"))
    alloc = used = 0.0
    for step in fleet.run():
        u = fleet.usage()
        assert (u["used"] <= u["allocated"] + 1e-12).all()
        web2 = next(s for s in step if s["component"] == "web-02")["metrics"]
        assert u["used"][1, POOLS.index("cpu")] == pytest.approx(2 * web2["cpu.util"])
        assert u["used"][1, POOLS.index("mem")] == pytest.approx(web2["mem.used_pct"] / 100)
        alloc, used = alloc + u["allocated"].sum() * 10, used + u["used"].sum() * 10
    totals = fleet.usage_totals()
    assert totals["allocated"].sum() == pytest.approx(alloc)
    assert totals["used"].sum() == pytest.approx(used)
    assert totals["allocated"].sum() == pytest.approx((4 * 4 + 1) * 600)  # web-02: 2x cpu


def test_a_lease_expires() -> None:
    sc = scenario("load_surge", seed=5)
    plain, granted = Fleet(sc), Fleet(sc)
    granted.apply(_cmd("web-01", lease_s=60))
    a = [plain.step() for _ in range(8)]
    b = [granted.step() for _ in range(8)]
    cpu_a, cpu_b = _series(a, "web-01", "cpu.util"), _series(b, "web-01", "cpu.util")
    assert cpu_a[:5] != cpu_b[:5] and cpu_a[6:] == cpu_b[6:]
    assert [e["event"] for e in granted.ground_truth()["allocations"]] == ["GRANT", "EXPIRED"]


@pytest.mark.parametrize(
    "change",
    [
        {"component": "nope-01"},
        {"resource": "GPU"},
        {"unit": "furlongs"},
        {"amount": 0.0},
        {"amount": float("nan")},
        {"action": "SHRUG"},
        {"command_id": ""},
    ],
)
def test_bad_commands_are_rejected_and_change_nothing(change: dict[str, Any]) -> None:
    sc = scenario("ramp", seed=1)
    plain, other = Fleet(sc), Fleet(sc)
    out = other.apply({**_cmd("web-01"), **change})
    assert out["status"] == "REJECTED" and out["detail"] and out["effect"] is None
    assert validate(out, _schema("AllocationOutcome"), raise_errors=True)
    assert [plain.step() for _ in range(3)] == [other.step() for _ in range(3)]


# -- the contract ---------------------------------------------------------------------------
def test_samples_validate_against_metric_sample_schema() -> None:
    schema = _schema("MetricSample")
    for name in ("mixed", "ramp"):
        fleet = Fleet(scenario(name, seed=1))
        for s in fleet.step() + fleet.step():
            assert validate(s, schema, raise_errors=True)


def test_to_batches_builds_valid_metric_batches() -> None:
    fleet = Fleet(scenario("mixed", seed=1))
    samples = [s for _ in range(7) for s in fleet.step()]
    batches = to_batches(samples, per_message=3)
    schema = _schema("MetricBatch")
    assert all(validate(b, schema, raise_errors=True) for b in batches)
    assert len(batches) == 12 * 3 and all(len(b["points"]) <= 3 for b in batches)
    web = [p["ts"] for b in batches if b["component"] == "web-01" for p in b["points"]]
    assert web == [s["ts"] for s in samples if s["component"] == "web-01"]
    with pytest.raises(ValueError):
        to_batches(samples, per_message=0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c/x"]), max_size=40), st.integers(1, 5))
def test_to_batches_keeps_every_sample_in_component_order(names: list[str], per: int) -> None:
    samples = [
        {"component": c, "host": c.split("/")[0], "ts": i, "metrics": {"m": float(i)}, "tags": {}}
        for i, c in enumerate(names)
    ]
    batches = to_batches(samples, per)
    assert sum(len(b["points"]) for b in batches) == len(samples)
    for c in set(names):
        got = [p["ts"] for b in batches if b["component"] == c for p in b["points"]]
        assert got == [s["ts"] for s in samples if s["component"] == c]


def test_ground_truth_is_json_and_written_to_a_file(tmp_path: Path) -> None:
    fleet, _ = _run(scenario("noisy_neighbour", seed=1))
    truth = fleet.ground_truth()
    assert json.loads(json.dumps(truth)) == truth
    path = tmp_path / "out" / "truth.json"
    write_ground_truth(fleet, path)
    assert json.loads(path.read_text()) == truth
    db = truth["components"]["db-01/postgres"]["fail_intervals"]["disk.io_util"]
    assert db[0][0] == truth["incidents"][0]["breach_ms"]
    assert all(end is None or end > start for start, end in db)


# -- scenarios, API edges -------------------------------------------------------------------
def test_scenarios_and_overrides() -> None:
    assert {"ramp", "mixed", "fleet", *KINDS} <= set(SCENARIOS)
    ramp = scenario("ramp")
    assert len(ramp.components) == 4 and ramp.incidents[0].metric == "cpu.util"
    assert (
        30 * 60_000
        <= ramp.incidents[0].breach_planned_ms - ramp.incidents[0].start_ms
        <= 40 * 60_000
    )
    moved = scenario("ramp", start_ms=ramp.start_ms + 3_600_000, step_s=5, duration_s=600)
    assert moved.incidents[0].start_ms == ramp.incidents[0].start_ms + 3_600_000
    assert (moved.step_s, moved.duration_s) == (5, 600)
    big = scenario("fleet", seed=2, n_components=250)
    assert len(big.components) == 250 and big.incidents
    with pytest.raises(ValueError):
        scenario("nope")
    with pytest.raises(ValueError):
        scenario("ramp", n_components=3)


def test_run_stops_at_until_ms_and_at_the_end() -> None:
    sc = scenario("ramp", duration_s=600)
    fleet = Fleet(sc)
    assert len(list(fleet.run(until_ms=sc.start_ms + 95_000))) == 9
    assert fleet.now_ms() == sc.start_ms + 90_000
    assert len(list(fleet.run())) == 51 and fleet.done()


def test_dependency_cycles_are_refused() -> None:
    sc = scenario("ramp")
    db = sc.components[3]
    looped = (*sc.components[:3], type(db)(**{**db.__dict__, "depends_on": ("web-01",)}))
    with pytest.raises(ValueError, match="cycle"):
        Fleet(scenario("ramp", components=looped))


def test_simulator_imports_no_kafka() -> None:
    allowed = {
        "__future__",
        "collections",
        "dataclasses",
        "json",
        "math",
        "numpy",
        "pathlib",
        "time",
        "typing",
        "zlib",  # a command's provisioning delay is seeded by its id's CRC
        "streams",
        "processors",  # the default health rules: one source of the FAIL thresholds
        "actuators",  # the outcome record: one builder, actuators.contract.make_outcome
    }
    for name in ("sim/simulator.py", "sim/incidents.py", "sim/scenarios.py", "sim/commands.py",
                 "sim/truth.py"):
        tree = ast.parse((ROOT / "streams" / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            for mod in mods:
                assert mod.split(".")[0] in allowed, f"{name} imports {mod}"
                # its own pure parts, and the pure trace reader
                assert mod.split(".")[0] != "streams" or mod in (
                    "streams.sim.incidents", "streams.sim.scenarios", "streams.sim.traces",
                    "streams.sim.commands", "streams.sim.truth")


def test_bench_reports_component_hours_per_second() -> None:
    assert bench(0.05, n_components=20) > 0
