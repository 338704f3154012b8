"""The API's read model (pure): leases from commands and outcomes, each host's own clock,
recent peaks, heat map rows, filters, the live feed's numbering; tokens; tail lines."""

from __future__ import annotations

import pytest

from schemas.errors import ConfigError
from streams.api.auth import check_bind, parse_tokens
from streams.api.model import EventLog, ReadModel
from streams.cli.tail import as_json, line
from tests.apiutil import grant, health, outcome, risk

T0 = 1_767_571_200_000
MIN = 60_000


def test_leases_follow_commands_and_outcomes_in_any_order() -> None:
    m = ReadModel()
    m.apply("RiskScore", risk("web-01", T0, 0.9))
    m.apply("AllocationCommand", grant("web-01", T0, cid="a"))
    assert [x["resource"] for x in m.leases_now(m.component("web-01"))] == ["CPU_WEIGHT"]
    m.apply("AllocationOutcome", outcome("a", "web-01", T0, "PREEMPTED"))
    assert m.leases_now(m.component("web-01")) == []
    # an outcome read before its command (two topics, no order between them)
    m.apply("AllocationOutcome", outcome("b", "web-02", T0, "FAILED"))
    m.apply("AllocationCommand", grant("web-02", T0, cid="b"))
    assert m.leases_now(m.component("web-02")) == []
    # a RELEASE ends it; an old command's outcome does not end its renewal
    m.apply("AllocationCommand", grant("web-03", T0, cid="c1"))
    m.apply("AllocationCommand", grant("web-03", T0 + MIN, amount=300, cid="c2"))
    m.apply("AllocationOutcome", outcome("c1", "web-03", T0 + MIN, "EXPIRED"))
    assert [x["amount"] for x in m.leases_now(m.component("web-03"))] == [300]
    m.apply("AllocationCommand", grant("web-03", T0 + 2 * MIN, action="RELEASE", cid="c3"))
    assert m.leases_now(m.component("web-03")) == []


def test_each_host_keeps_its_own_clock() -> None:
    m = ReadModel()
    m.apply("AllocationCommand", grant("sim-01", T0, cid="a"))  # a 600 s lease
    # a real host in wall-clock time, a year ahead, ends nobody else's lease
    m.apply("HealthSignal", health("laptop", T0 + 365 * 86_400_000, "PASS"))
    assert len(m.leases_now(m.component("sim-01"))) == 1
    m.apply("HealthSignal", health("sim-01", T0 + 11 * MIN, "PASS"))
    assert m.leases_now(m.component("sim-01")) == []
    # preferences carry wall time: they move no clock
    m.apply("Preference", {"selector": "x", "ts": T0 + 10**12, "criticality": 1,
                           "allowed_resources": None, "maxima": {}, "paused": False})
    assert m.now_ms == T0 + 365 * 86_400_000


def test_peak_history_heatmap_and_filters() -> None:
    m = ReadModel()
    for i, r in enumerate([0.1, 0.9, 0.2]):
        m.apply("RiskScore", risk("web-01", T0 + i * MIN, r))
    for i in range(20):
        m.apply("RiskScore", risk("db-01", T0 + i * MIN, 0.9 if i == 0 else 0.1))
    m.apply("RiskScore", risk("web-02/app", T0, 0.5))
    by = {c["id"]: c for c in m.components()}
    assert by["web-01"]["risk"] == 0.2 and by["web-01"]["peak_risk"] == 0.9
    assert by["db-01"]["peak_risk"] == 0.1  # its 0.9 is 19 min old: past the 15 min window
    assert [c["id"] for c in m.components(host="web-02")] == ["web-02/app"]
    assert [c["id"] for c in m.components(glob="web-*", min_risk=0.3)] == ["web-02/app"]
    assert [p["risk"] for p in m.risk_history("web-01", T0 + MIN, T0 + MIN)] == [0.9]
    assert m.risk_history("nosuch") is None
    heat = m.heatmap(buckets=5, bucket_s=60, components=["web-01"])
    assert heat["rows"][0]["risk"] == [None, None, 0.1, 0.9, 0.2]
    assert heat["rows"][0]["end_ms"] == T0 + 3 * MIN


def test_metric_series_keeps_one_point_per_minute_of_plotted_metrics() -> None:
    m = ReadModel(plotted=frozenset({"cpu.util"}))
    m.apply("MetricBatch", {"component": "w", "host": "w", "tags": {}, "points": [
        {"ts": T0 + s * 1000, "metrics": {"cpu.util": s / 100, "other": 1.0}}
        for s in range(0, 120, 10)]})
    assert m.metric_series("w") == [{"ts": T0, "values": {"cpu.util": 0.5}},
                                    {"ts": T0 + MIN, "values": {"cpu.util": 1.1}}]
    assert m.host_ms["w"] == T0 + 110_000


def test_event_log_numbers_what_came_since() -> None:
    log = EventLog(3)
    for i in range(5):
        log.append({"i": i})
    assert [e["i"] for e in log.since(2, 10)] == [2, 3, 4]
    assert [e["i"] for e in log.since(0, 10)] == [2, 3, 4]  # older ones are gone
    assert [e["i"] for e in log.since(3, 1)] == [4]
    assert log.since(5, 10) == []


def test_tokens() -> None:
    t = parse_tokens("ops:write:abcdefgh, ro:read:ijklmnop")
    assert t.role("abcdefgh") == "write" and t.find("ijklmnop").name == "ro"  # type: ignore
    assert "abcdefgh" not in repr(t)
    for bad in ("ops:admin:abcdefgh", "ops:write", "ops:write:short"):
        with pytest.raises(ConfigError):
            parse_tokens(bad)
    with pytest.raises(ConfigError, match="FOREWARN_API_TOKENS"):
        check_bind("0.0.0.0", parse_tokens(""))
    assert "open" in (check_bind("127.0.0.1", parse_tokens("")) or "")
    assert check_bind("0.0.0.0", t) is None


def test_tail_lines() -> None:
    assert line("RiskScore", risk("web-01", T0, 0.85, eta_s=300)) == (
        "2026-01-05T00:00:00Z web-01 risk 0.850 anomaly 0.20 breach cpu.util>0.9 in 5.0 min "
        "p=0.85 model warm/component")
    assert line("AllocationCommand", grant("web-01", T0, cid="c")) == (
        "2026-01-05T00:00:00Z web-01 GRANT CPU_WEIGHT 200 weight lease 600s risk 0.80 "
        "priority 5 id c: risk")
    out = outcome("c", "web-01", T0)
    out["effect"] = {"metric": "cpu.util", "before": 0.9, "after": 0.7, "breach_avoided": True}
    assert line("AllocationOutcome", out).endswith("effect cpu.util 0.9→0.7 breach avoided")
    dead = {"source_topic": "m", "partition": 1, "offset": 7, "ts": T0, "reason": "bad",
            "error": "DecodeError", "stage": "decode", "key": None, "original": b"\x00"}
    assert line("DeadLetter", dead) == "2026-01-05T00:00:00Z m[1]@7 decode DecodeError: bad"
    assert as_json("DeadLetter", dead).endswith(b'"original":"AA=="}')
