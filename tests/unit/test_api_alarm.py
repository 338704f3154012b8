"""The page (RiskScore's ``alarm``) where people look: the read model's firing state and its
since-when (event time), the API's filter, the Prometheus gauges and the live feed's order.
Unknown (events written before s29) is never shown as not firing. Pure: no broker."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from schemas.codec import Codec
from streams.api.app import _risk_view, _update
from streams.api.gauges import ReadModelCollector
from streams.api.model import ReadModel
from streams.cli.tail import line
from tests.apiutil import risk

T0 = 1_767_571_200_000
MIN = 60_000


class _Live:
    def __init__(self, m: ReadModel) -> None:
        self.m = m

    def read(self, fn: Any) -> Any:
        return fn(self.m)


def test_since_is_the_event_time_the_current_run_began() -> None:
    m = ReadModel()
    seen = []
    for i, alarm in enumerate([None, False, True, True, False, True, True]):
        m.apply("RiskScore", risk("web-01", T0 + i * MIN, 0.5, alarm=alarm))
        c = m.components(glob="web-01")[0]
        seen.append((c["alarm"], c["alarm_since_ms"]))
    assert seen == [(None, None), (False, None), (True, T0 + 2 * MIN), (True, T0 + 2 * MIN),
                    (False, None), (True, T0 + 5 * MIN), (True, T0 + 5 * MIN)]
    # a late, older score neither moves the run nor the latest state
    m.apply("RiskScore", risk("web-01", T0 + 4 * MIN, 0.5, alarm=False))
    assert m.components()[0]["alarm_since_ms"] == T0 + 5 * MIN and m.paging == {"web-01"}
    # the same score read twice (at-least-once delivery) keeps the run
    m.apply("RiskScore", risk("web-01", T0 + 6 * MIN, 0.5, alarm=True))
    assert m.components()[0]["alarm_since_ms"] == T0 + 5 * MIN
    # a score without the page (a pipeline keeping none) ends the run: unknown, not firing
    m.apply("RiskScore", risk("web-01", T0 + 7 * MIN, 0.5))
    assert m.components()[0]["alarm"] is None and m.paging == set()


def test_an_s28_event_decodes_as_unknown() -> None:
    codec = Codec()
    kind, rec = codec.decode(codec.encode("RiskScore", risk("w", T0, 0.9)), ["RiskScore"])
    assert kind == "RiskScore" and rec["alarm"] is None
    m = ReadModel()
    m.apply(kind, rec)
    assert m.components()[0]["alarm"] is None
    assert m.components(alarm=True) == [] and m.components(alarm=False) == []


def fleet() -> ReadModel:
    m = ReadModel()
    m.apply("RiskScore", risk("db-01", T0, 0.9, alarm=False))  # high, not paging (yet)
    m.apply("RiskScore", risk("web-01", T0, 0.6, alarm=True))
    m.apply("RiskScore", risk("web-02", T0 - MIN, 0.5, alarm=True))
    m.apply("RiskScore", risk("web-02", T0, 0.1, alarm=True))  # held under a low risk
    m.apply("RiskScore", risk("old-01", T0, 0.95))  # before s29: unknown
    return m


def test_filter_by_the_page() -> None:
    m = fleet()
    assert [c["id"] for c in m.components(alarm=True)] == ["web-01", "web-02"]
    assert [c["id"] for c in m.components(alarm=False)] == ["db-01"]
    assert [c["id"] for c in m.components(alarm=True, min_risk=0.3)] == ["web-01"]
    assert [c["id"] for c in m.components(alarm=True, limit=1)] == ["web-01"]
    got = m.components_json(alarm=True)
    assert got.startswith(b'[{"id":"web-01"') and got.count(b'"alarm":true') == 2
    assert b'"alarm_since_ms":%d' % (T0 - MIN) in got
    assert m.components_json().count(b'"alarm":null') == 1  # the full list keeps unknown
    detail = _risk_view(m, "web-02", None, None, {})
    assert detail is not None and detail["alarm"] is True
    assert detail["alarm_since_ms"] == T0 - MIN
    assert [p["alarm"] for p in detail["points"]] == [True, True]


def test_gauges_export_the_page_firing_first_and_count_them_all() -> None:
    reg = CollectorRegistry()
    reg.register(ReadModelCollector(_Live(fleet()), max_series=2))
    text = generate_latest(reg).decode()
    # the cap keeps the pages, even one held under a low risk, before riskier components
    assert 'forewarn_component_alarm{component="web-01"} 1.0' in text
    assert 'forewarn_component_alarm{component="web-02"} 1.0' in text
    assert 'component="old-01"' not in text and 'component="db-01"' not in text
    assert "forewarn_components_alarm_firing 2.0" in text
    reg = CollectorRegistry()
    reg.register(ReadModelCollector(_Live(fleet())))
    text = generate_latest(reg).decode()
    assert 'forewarn_component_alarm{component="db-01"} 0.0' in text
    assert 'forewarn_component_alarm{component="old-01"}' not in text  # unknown: no sample
    assert 'forewarn_component_risk{component="old-01"} 0.95' in text


def test_live_feed_puts_pages_first() -> None:
    m = fleet()
    got = _update(m, {"version": -1, "risk": 0, "alloc": 0, "out": 0}, True)
    assert got is not None and got["paging_total"] == 2
    assert [c["id"] for c in got["components"]] == ["web-01", "web-02", "old-01", "db-01"]
    assert got["components"][1]["alarm_since_ms"] == T0 - MIN


def test_tail_marks_a_firing_page() -> None:
    assert line("RiskScore", risk("w", T0, 0.5, alarm=True)).endswith("model warm/component PAGE")
    for alarm in (False, None):
        assert line("RiskScore", risk("w", T0, 0.5, alarm=alarm)).endswith("warm/component")
