"""Health rules: thresholds, hysteresis, for_s, heartbeats, rule files, the contract."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import fastavro
import numpy as np
import pytest

from processors.health import (
    HealthEvaluator,
    Rule,
    Status,
    default_rules,
    load_rules,
    parse_rules,
)
from schemas.errors import ConfigError

SCHEMA: Any = fastavro.parse_schema(
    json.loads((Path(__file__).parents[2] / "schemas/avro/HealthSignal.avsc").read_text())
)
CPU = Rule("cpu.util", warn=0.80, fail=0.95, hysteresis=0.05)


def run(
    ev: HealthEvaluator, values: list[float], step_ms: int = 10_000, metric: str = "cpu.util"
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, v in enumerate(values):
        out += ev.evaluate("web-1", i * step_ms, {metric: v})
    return out


def changes(signals: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(s["ts"] // 1000, s["status"]) for s in signals if not s["heartbeat"]]


def test_default_rules_cover_the_standard_metrics() -> None:
    rules = {r.metric: r for r in default_rules()}
    expected = {
        "cpu.util": (0.80, 0.95),
        "mem.used_pct": (85, 95),
        "disk.used_pct": (85, 95),
        "disk.io_util": (0.8, 0.95),
        "latency.p99_ms": (500, 1000),
        "net.util": (0.8, 0.95),
        "errors.rate": (0.02, 0.05),
        "swap.used_pct": (50, 80),
        "psi.cpu.some_avg10": (20, 40),
        "psi.mem.some_avg10": (20, 40),
        "psi.io.some_avg10": (20, 40),
    }
    assert {m: (r.warn, r.fail) for m, r in rules.items()} == expected
    assert all(r.direction == "above" and r.hysteresis > 0 for r in rules.values())


def test_hysteresis_holds_a_status_until_the_value_is_clearly_back() -> None:
    ev = HealthEvaluator([CPU])
    values = [0.5, 0.96, 0.93, 0.91, 0.89, 0.78, 0.76, 0.74, 0.81, 0.96]
    assert changes(run(ev, values)) == [
        (0, "PASS"),
        (10, "FAIL"),
        (40, "WARN"),
        (70, "PASS"),
        (80, "WARN"),
        (90, "FAIL"),
    ]


def test_for_s_needs_the_condition_to_hold_that_long_in_event_time() -> None:
    ev = HealthEvaluator([Rule("cpu.util", warn=0.8, fail=0.95, for_s=30)])
    # a 20 s excursion above FAIL is not enough; the next one lasts and fails at its 30th s
    values = [0.5, 0.97, 0.97, 0.97, 0.5, 0.97, 0.97, 0.97, 0.97, 0.97]
    got = changes(run(ev, values))
    assert got == [(0, "PASS"), (80, "FAIL")]


def test_for_s_escalates_through_warn_when_fail_is_not_held() -> None:
    ev = HealthEvaluator([Rule("cpu.util", warn=0.8, fail=0.95, for_s=20)])
    values = [0.85, 0.97, 0.85, 0.97, 0.97, 0.97]
    assert changes(run(ev, values)) == [(0, "PASS"), (20, "WARN"), (50, "FAIL")]


def test_heartbeats_repeat_an_unchanged_status_every_heartbeat_s() -> None:
    ev = HealthEvaluator([CPU], heartbeat_s=60)
    signals = run(ev, [0.5] * 19)  # 0 .. 180 s
    assert [(s["ts"] // 1000, s["heartbeat"]) for s in signals] == [
        (0, False),
        (60, True),
        (120, True),
        (180, True),
    ]
    assert all(s["threshold"] is None for s in signals)


def test_a_change_resets_the_heartbeat_clock() -> None:
    ev = HealthEvaluator([CPU], heartbeat_s=60)
    signals = run(ev, [0.5, 0.5, 0.5, 0.5, 0.96] + [0.96] * 7)
    assert [(s["ts"] // 1000, s["status"], s["heartbeat"]) for s in signals] == [
        (0, "PASS", False),
        (40, "FAIL", False),
        (100, "FAIL", True),
    ]
    assert signals[1]["threshold"] == 0.95 and signals[1]["value"] == 0.96


def test_below_rules_mirror_above_rules() -> None:
    rule = Rule("disk.free_pct", warn=15, fail=5, direction="below", hysteresis=2)
    assert rule.name == "disk.free_pct.low"
    ev = HealthEvaluator([rule])
    got = changes(run(ev, [50, 14, 4, 6, 7.5, 16, 18], metric="disk.free_pct"))
    assert got == [(0, "PASS"), (10, "WARN"), (20, "FAIL"), (40, "WARN"), (60, "PASS")]


def test_worst_status_per_component_and_isolation_between_components() -> None:
    ev = HealthEvaluator(default_rules())
    ev.evaluate("a", 0, {"cpu.util": 0.5, "disk.used_pct": 97.0, "mem.used_pct": 90.0})
    ev.evaluate("b", 0, {"cpu.util": 0.5})
    assert ev.worst_status("a") == Status.FAIL  # disk.used_pct has for_s = 0
    assert ev.statuses("a")["mem.used_pct.high"] == Status.PASS  # pending its for_s
    assert ev.worst_status("b") == Status.PASS
    assert ev.worst_status("nobody") == Status.PASS


def test_odd_input_is_skipped_and_old_samples_do_not_rewrite_history() -> None:
    ev = HealthEvaluator([CPU])
    assert ev.evaluate("c", 10_000, {"cpu.util": float("nan"), "unknown": 3.0}) == []
    assert len(ev.evaluate("c", 20_000, {"cpu.util": 0.99})) == 1
    assert ev.evaluate("c", 15_000, {"cpu.util": 0.1}) == []  # older than the last judged
    assert ev.worst_status("c") == Status.FAIL


def test_signals_fit_the_avro_contract() -> None:
    ev = HealthEvaluator(default_rules())
    signals = []
    for i in range(30):
        signals += ev.evaluate(
            "web-1/pg", i * 10_000, {"cpu.util": 0.5 + i * 0.02, "latency.p99_ms": 100 + i * 40}
        )
    assert {s["status"] for s in signals} == {"PASS", "WARN", "FAIL"}
    for s in signals:
        assert fastavro.validation.validate(s, SCHEMA, raise_errors=True)
        assert set(s) == {f["name"] for f in SCHEMA["fields"]}


def test_rules_load_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rule]]\nmetric = "queue.depth"\nwarn = 100\nfail = 1000\nfor_s = 60\n'
        '[[rule]]\nmetric = "disk.free_pct"\nfail = 5\ndirection = "below"\nname = "disk-low"\n'
    )
    q, d = load_rules(path)
    assert (q.name, q.warn, q.fail, q.for_s) == ("queue.depth.high", 100.0, 1000.0, 60.0)
    assert (d.name, d.warn, d.direction) == ("disk-low", None, "below")


@pytest.mark.parametrize(
    "entry",
    [
        {"metric": "m"},
        {"metric": "m", "fail": 1, "warn": 2},
        {"metric": "m", "fail": 1, "direction": "sideways"},
        {"metric": "m", "fail": 1, "hysteresis": -1},
        {"metric": "m", "fail": 1, "colour": "red"},
        {"metric": "m", "fail": "high"},
    ],
)
def test_bad_rules_raise_config_errors_that_name_the_rule(entry: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="rule"):
        parse_rules({"rule": [entry]})


def test_duplicate_rule_names_and_unreadable_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unique"):
        parse_rules({"rule": [{"metric": "m", "fail": 1}, {"metric": "m", "fail": 2}]})
    with pytest.raises(ConfigError, match="missing.toml"):
        load_rules(tmp_path / "missing.toml")


def test_the_status_constants_are_the_members_and_values_of_any_number_type() -> None:
    """``PASS``/``WARN``/``FAIL`` and ``STATUSES[n]`` are the enum's own members (#14 s18:
    cheaper to read than ``Status.X``), and a value of any number type is judged as its
    float, a non-number or non-finite one skipped."""
    from processors.health import FAIL, PASS, STATUSES, WARN, Status

    assert (PASS, WARN, FAIL) == STATUSES and all(STATUSES[s] is s for s in Status)
    assert all(STATUSES[int(s)] is Status(int(s)) for s in Status)
    got = []
    for value in (0.99, 1, True, np.float64(0.99), "0.99", None, math.inf, math.nan):
        ev = HealthEvaluator([Rule("m", fail=0.9)])
        metrics: dict[str, Any] = {"m": value}
        got.append([(s["status"], s["value"]) for s in ev.evaluate("c", 0, metrics)])
    assert got == [[("FAIL", 0.99)], [("FAIL", 1.0)], [("FAIL", 1.0)], [("FAIL", 0.99)],
                   [], [], [], []]
