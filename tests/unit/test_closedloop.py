"""The closed loop: the reactive policy, the runner's figures, and the command line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from actuators.reactive import ReactiveConfig, ReactivePolicy
from processors.pipeline import PipelineConfig
from schemas.errors import ConfigError
from streams.cli.closedloop import parse_overrides
from streams.lab import backtest
from streams.lab.closedloop import closed_loop, engine_config, run_policy
from streams.sim.simulator import Fleet, scenario
from tests.unit.test_backtest import parser

BASE = PipelineConfig()


def _sample(ts_ms: int, cpu: float, component: str = "web-1") -> dict[str, Any]:
    return {"component": component, "host": component, "ts": ts_ms, "metrics": {"cpu.util": cpu}}


def _applied(policy: ReactivePolicy, cmds: list[dict[str, Any]]) -> None:
    for c in cmds:
        policy.on_outcome({"command_id": c["command_id"], "status": "APPLIED"})


# -- the reactive policy ---------------------------------------------------------------------
def test_reactive_scales_up_at_once_and_down_only_after_the_window() -> None:
    policy = ReactivePolicy(ReactiveConfig(targets={"cpu": 0.7}))
    up = policy.on_sample(_sample(0, 0.98))
    assert [(c["resource"], c["action"]) for c in up] == [("CPU_WEIGHT", "GRANT")]
    assert up[0]["amount"] == 40.0  # 100 * (0.98 / 0.7 - 1), rounded up
    assert policy.on_sample(_sample(10_000, 0.5)) == []  # in flight: no second command
    _applied(policy, up)
    assert policy.allocations() == {("web-1", "CPU_WEIGHT"): 40.0}
    t = 20_000
    for _ in range(10):  # at the target: within tolerance, nothing changes
        assert policy.on_sample(_sample(t, 0.72)) == []
        t += 10_000
    low_from = t
    while t < low_from + 300_000:  # load falls: held for the 5-minute window
        assert policy.on_sample(_sample(t, 0.35)) == [], (t - low_from) // 1000
        t += 10_000
    down = policy.on_sample(_sample(t, 0.35))
    assert [(c["action"], c["amount"]) for c in down] == [("GRANT", -30.0)]  # 1.4*0.5 -> 0.7


def test_reactive_releases_at_base_and_respects_the_pool() -> None:
    cfg = ReactiveConfig(targets={"cpu": 0.5}, stabilisation_s=0, tolerance=0.0,
                         host_capacity={"h": {"CPU_WEIGHT": 30.0}})
    policy = ReactivePolicy(cfg)
    first = policy.on_sample({**_sample(0, 1.0), "host": "h"})
    assert first[0]["amount"] == 30.0  # wants +100, the host lends 30
    _applied(policy, first)
    other = policy.on_sample({**_sample(0, 1.0, "web-2"), "host": "h"})
    assert other == []  # nothing left in the host's pool
    back = policy.on_sample({**_sample(10_000, 0.5 / 1.3), "host": "h"})
    assert [(c["action"], c["amount"]) for c in back] == [("RELEASE", 0.0)]


def test_reactive_commands_are_deterministic_and_failed_ones_are_dropped() -> None:
    a, b = ReactivePolicy(), ReactivePolicy()
    s = {**_sample(5_000, 0.99), "metrics": {"cpu.util": 0.99, "mem.used_pct": 98.0}}
    ca, cb = a.on_sample(s), b.on_sample(s)
    assert ca == cb and len({c["command_id"] for c in ca}) == 2
    assert {c["resource"] for c in ca} == {"CPU_WEIGHT", "MEMORY_HIGH"}
    mem = next(c for c in ca if c["resource"] == "MEMORY_HIGH")
    assert mem["amount"] == 410.0  # 1024 MiB at 98 % used -> 0.98/0.7 of it, rounded up
    a.on_outcome({"command_id": mem["command_id"], "status": "REJECTED"})
    assert a.allocations() == {}


def test_reactive_config_is_validated() -> None:
    with pytest.raises(ConfigError, match="unknown pools"):
        ReactiveConfig(targets={"gpu": 0.5})
    with pytest.raises(ConfigError, match="targets"):
        ReactiveConfig(targets={"cpu": 1.5})


# -- the runner ------------------------------------------------------------------------------
def _tiny() -> Any:
    """Ramp's fleet for 10 minutes, no incident, web-02's disk full from the start."""
    sc = scenario("ramp", seed=3, duration_s=600, incidents=())
    comps = tuple(dataclasses.replace(c, base_disk_pct=97.0) if c.id == "web-02" else c
                  for c in sc.components)
    return dataclasses.replace(sc, components=comps)


def test_figures_on_a_hand_made_case(monkeypatch: pytest.MonkeyPatch) -> None:
    sc = _tiny()
    monkeypatch.setattr("streams.sim.simulator.scenario", lambda *a, **k: sc)
    r = run_policy("tiny", 3, "none", BASE)
    assert r["violation_minutes"] == pytest.approx(10.0)  # web-02: every step, for_s = 0
    assert r["violation_minutes_by_component"] == {"web-02": pytest.approx(10.0)}
    assert r["violation_minutes_relievable"] == 0.0  # nothing relieves a full disk
    assert r["resource_hours"] == pytest.approx(4 * 4 * 600 / 3600)  # all at base
    used = 0.0  # at base capacity, a pool's use is its utilisation (none saturates here)
    for step in Fleet(sc).run():
        for s in step:
            m = s["metrics"]
            used += m["cpu.util"] + m["mem.used_pct"] / 100 + m["disk.io_util"] + m["net.util"]
    used_hours = used * sc.step_s / 3600
    assert r["used_hours"] == pytest.approx(used_hours)
    assert r["slack"] == pytest.approx(1 - used_hours / r["resource_hours"])
    assert r["commands"] == r["actuations"] == 0 and r["breaches_predicted"] == 0


def test_none_issues_no_commands_and_reactive_vertical_scales_the_fleet_down() -> None:
    quiet = {"ramp": {"duration_s": 900, "incidents": ()}}
    res = closed_loop(["ramp"], 4, ["none", "reactive-vertical", "reactive"], BASE,
                      overrides=quiet)
    none = res["policies"]["none"]["total"]
    hpa = res["policies"]["reactive"]["scenarios"]["ramp"]
    assert hpa["commands"] == 0 and hpa["resource_hours"] == none["resource_hours"]  # min pods
    reactive = res["policies"]["reactive-vertical"]["scenarios"]["ramp"]
    assert none["commands"] == none["actuations"] == 0
    assert reactive["commands"] > 0 and reactive["actuations"] == reactive["commands"] - (
        reactive["not_applied_by_end"])
    assert reactive["resource_hours"] < none["resource_hours"]  # quiet fleet: scaled down
    assert reactive["slack"] < none["slack"]


def test_same_scenario_seed_and_policy_give_the_same_json() -> None:
    def once() -> bytes:
        res = closed_loop(["ramp"], 7, ["forewarn", "reactive"], BASE)
        return orjson.dumps(backtest.clean_json(res), option=orjson.OPT_SORT_KEYS)

    assert once() == once()


@pytest.mark.parametrize("policy", ["forewarn", "engine", "reactive"])
def test_each_policy_cuts_violation_minutes_on_the_ramp(policy: str) -> None:
    res = closed_loop(["ramp"], 42, ["none", policy], BASE)
    none = res["policies"]["none"]["total"]["violation_minutes"]
    fw = res["policies"][policy]["total"]
    assert none > 10.0
    assert fw["violation_minutes"] < none and fw["actuations"] >= 1
    cut = res["reductions"][f"{policy}_vs_none"]["total"]["violation_minutes_pct"]
    assert cut == pytest.approx(100 * (none - fw["violation_minutes"]) / none)


def test_the_hpa_scales_out_with_replicas_and_waits_for_them() -> None:
    res = run_policy("flash_crowd", 42, "reactive", BASE, {"duration_s": 3 * 3600})
    assert res["commands_by_action"].get("GRANT", 0) >= 2  # out in steps: pods start slowly
    assert res["violation_minutes"] > 0  # a 2-minute surge outruns 60-180 s pods


def test_engine_overrides_are_checked() -> None:
    assert engine_config({"lease_s": 3600}).lease_s == 3600
    with pytest.raises(ConfigError, match="no \\['nope'\\]"):
        engine_config({"nope": 1})
    assert parse_overrides(["lease_s=3600", "margin=0.2"]) == {"lease_s": 3600, "margin": 0.2}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_overrides(["lease_s"])
    with pytest.raises(ValueError, match="unknown policy"):
        run_policy("ramp", 1, "magic", BASE)


# -- the command line ------------------------------------------------------------------------
def test_cli_json_has_the_figures(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = parser().parse_args(["backtest", "fleet", "--scenario", "ramp", "--policy", "none",
                                "--json", "--jobs", "1", "--out", str(tmp_path)])
    assert args.func(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"violation_minutes", "resource_hours", "slack", "policies", "reductions"} <= set(
        result)
    ramp = result["policies"]["none"]["scenarios"]["ramp"]
    assert ramp["violation_minutes"] == result["violation_minutes"] > 0
    assert (tmp_path / "closedloop.json").is_file()


def test_cli_table_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    p = parser()
    args = p.parse_args(["backtest", "fleet", "--scenario", "nope", "--policy", "all",
                         "--out", str(tmp_path)])
    assert args.func(args) == 2 and "unknown scenario" in capsys.readouterr().err
    args = p.parse_args(["backtest", "fleet", "--scenario", "ramp", "--policy", "none",
                         "--engine", "oops", "--out", str(tmp_path)])
    assert args.func(args) == 2 and "KEY=VALUE" in capsys.readouterr().err
    args = p.parse_args(["backtest", "fleet", "--scenario", "ramp", "--policy", "none,magic",
                         "--out", str(tmp_path)])
    assert args.func(args) == 2 and "unknown ['magic']" in capsys.readouterr().err


# -- #11 section 3: the sizing policy, platforms and the trace scenario ----------------------
def test_forewarn_drives_the_fleet_with_the_forecast_sizers() -> None:
    quiet = {"ramp": {"duration_s": 3 * 3600, "incidents": ()}}

    def once() -> bytes:
        res = closed_loop(["ramp"], 5, ["none", "forewarn"], BASE, overrides=quiet)
        return orjson.dumps(backtest.clean_json(res), option=orjson.OPT_SORT_KEYS)

    first = once()
    assert first == once()
    res = json.loads(first)
    fw = res["policies"]["forewarn"]["scenarios"]["ramp"]
    assert fw["commands"] > 0 and fw["outcomes"] == {"APPLIED": fw["commands"]}
    assert fw["resource_hours"] < res["policies"]["none"]["scenarios"]["ramp"]["resource_hours"]
    assert "forewarn_vs_none" in res["reductions"]


def test_the_platform_and_trace_options_reach_the_scenarios(tmp_path: Path) -> None:
    from streams.cli.closedloop import scenario_overrides

    args = parser().parse_args(["backtest", "fleet", "--policy", "none", "--platform", "aws",
                                "--trace-data", str(tmp_path), "--trace-vms", "3"])
    over = scenario_overrides(args)
    assert over["trace"] == {"data": str(tmp_path), "vms": 3, "platform": "aws"}
    assert over["ramp"] == {"platform": "aws"}
    r = run_policy("ramp", 1, "none", BASE, {"platform": "aws", "duration_s": 60})
    assert r["violation_minutes"] == 0.0


def test_cli_trace_scenario_needs_its_data(tmp_path: Path, capsys: pytest.CaptureFixture
                                           ) -> None:
    args = parser().parse_args(["backtest", "fleet", "--scenario", "trace", "--policy", "none",
                                "--out", str(tmp_path)])
    assert args.func(args) == 2 and "--trace-data" in capsys.readouterr().err
