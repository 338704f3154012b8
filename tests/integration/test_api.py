"""``forewarn api`` against the real embedded broker: the read model follows the topics, writes
reach them, tokens guard them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from schemas.codec import Codec
from schemas.errors import ConfigError
from streams.api.auth import parse_tokens
from streams.api.server import ApiServer
from streams.runtime.broker import free_port
from streams.settings import Settings
from tests.apiutil import call, ensure_topic, grant, health, outcome, produce, risk, wait_for
from tests.kafkautil import read_all

pytestmark = pytest.mark.integration
T0 = 1_700_000_000_000


@pytest.fixture
def api(settings: Settings) -> Iterator[ApiServer]:
    ensure_topic(settings, "feedback")
    server = ApiServer(settings, port=free_port()).start()
    try:
        yield server
    finally:
        server.close()


def components(api: ApiServer, query: str = "") -> list[dict]:
    status, body = call("GET", f"{api.url}v1/components{query}")
    assert status == 200, body
    return body


def read_model_caught_up(api: ApiServer) -> list[dict] | None:
    """The components once every topic of the test below is read (each topic is read on its
    own, so risk may be in before health or the allocations are)."""
    comps = components(api)
    web = [c for c in comps if c["id"] == "web-01"]
    outcomes = call("GET", f"{api.url}v1/outcomes")[1]
    allocs = call("GET", f"{api.url}v1/allocations")[1]  # g2 may sit on another partition
    if (len(comps) == 3 and len(outcomes) == 2 and len(allocs) == 2 and web[0]["health_metrics"]
            and web[0]["leases"]):
        return comps
    return None


def test_read_model_follows_the_topics(settings: Settings, api: ApiServer) -> None:
    produce(settings, [
        ("risk", "RiskScore", risk("web-01", T0, 0.2)),
        ("risk", "RiskScore", risk("web-01", T0 + 60_000, 0.85, eta_s=300)),
        ("risk", "RiskScore", risk("web-01/db", T0 + 60_000, 0.1, eta_s=None)),
        ("risk", "RiskScore", risk("db-02", T0 + 60_000, 0.4)),
        ("health", "HealthSignal", health("web-01", T0 + 60_000, "WARN", 0.88)),
        ("allocations", "AllocationCommand", grant("web-01", T0 + 60_000, cid="g1")),
        ("outcomes", "AllocationOutcome", outcome("g1", "web-01", T0 + 60_000)),
        ("allocations", "AllocationCommand", grant("db-02", T0 + 60_000, cid="g2")),
        ("outcomes", "AllocationOutcome", outcome("g2", "db-02", T0 + 60_000, "FAILED")),
    ])
    got = wait_for(lambda: read_model_caught_up(api))
    by_id = {c["id"]: c for c in got}
    web = by_id["web-01"]
    assert web["risk"] == 0.85 and web["peak_risk"] == 0.85 and web["host"] == "web-01"
    assert web["breach"]["eta_s"] == 300 and web["health"] == "WARN"
    assert [lease["resource"] for lease in web["leases"]] == ["CPU_WEIGHT"]
    assert by_id["db-02"]["leases"] == []  # its grant FAILED
    assert by_id["web-01/db"]["breach"] is None

    assert [c["id"] for c in components(api, "?host=web-01")] == ["web-01", "web-01/db"]
    assert [c["id"] for c in components(api, "?glob=db-*")] == ["db-02"]
    assert [c["id"] for c in components(api, "?min_risk=0.3")] == ["db-02", "web-01"]

    status, hist = call("GET", f"{api.url}v1/components/web-01/risk?from={T0 + 1}")
    assert status == 200 and [p["risk"] for p in hist["points"]] == [0.85]
    assert hist["points"][0]["forecasts"][0]["upper"] == 0.95
    assert [a["command_id"] for a in hist["allocations"]] == ["g1"]
    assert hist["health"][0]["threshold"] == 0.9
    status, hist = call("GET", f"{api.url}v1/components/web-01/db/risk")
    assert status == 200 and len(hist["points"]) == 1
    assert call("GET", f"{api.url}v1/components/nosuch/risk")[0] == 404

    status, allocs = call("GET", f"{api.url}v1/allocations?component=db-*")
    assert status == 200 and [a["command_id"] for a in allocs] == ["g2"]
    status, outs = call("GET", f"{api.url}v1/outcomes?status=FAILED")
    assert [o["command_id"] for o in outs] == ["g2"]

    status, text = call("GET", f"{api.url}metrics")
    assert status == 200
    assert 'forewarn_component_risk{component="web-01"} 0.85' in text
    assert 'forewarn_component_lease_amount{component="web-01",resource="CPU_WEIGHT"} 200.0' \
        in text
    assert 'forewarn_component_health{component="web-01"} 1.0' in text

    status, body = call("GET", f"{api.url}healthz")
    assert status == 200 and body["following"] and body["components"] == 3

    status, heat = call("GET", f"{api.url}v1/heatmap?buckets=5")
    assert status == 200 and heat["rows"][0]["id"] == "db-02"
    assert max(v or 0 for v in {r["id"]: r for r in heat["rows"]}["web-01"]["risk"]) == 0.85


def test_preferences_and_feedback_go_to_their_topics(settings: Settings, api: ApiServer) -> None:
    produce(settings, [("risk", "RiskScore", risk("web-07", T0, 0.9))])
    wait_for(lambda: components(api))
    status, rec = call("PUT", f"{api.url}v1/preferences/db-*",
                       {"criticality": 9, "maxima": {"MEMORY_HIGH": 8192}})
    assert status == 200 and rec["criticality"] == 9 and rec["maxima"] == {"MEMORY_HIGH": 8192}
    codec = Codec()
    on_topic = read_all(settings, "preferences", until=lambda r: len(r) >= 1, codec=codec)
    assert on_topic[0][2] == b"db-*" and on_topic[0][3]["criticality"] == 9
    # read back through the feed, then changed field by field
    wait_for(lambda: call("GET", f"{api.url}v1/preferences/db-*")[0] == 200)
    status, rec = call("PUT", f"{api.url}v1/preferences/db-*", {"paused": True})
    assert rec["criticality"] == 9 and rec["paused"] is True
    assert call("PUT", f"{api.url}v1/preferences/x", {"criticality": 11})[0] == 422
    assert call("PUT", f"{api.url}v1/preferences/x", {"maxima": {"GPU": 1}})[0] == 422
    wait_for(lambda: call("GET", f"{api.url}v1/preferences/db-*")[1]["paused"] is True)
    assert call("DELETE", f"{api.url}v1/preferences/db-*")[0] == 204
    assert call("DELETE", f"{api.url}v1/preferences/nosuch")[0] == 404
    raw = read_all(settings, "preferences", until=lambda r: len(r) >= 3)
    assert raw[-1][3] is None  # the tombstone
    wait_for(lambda: call("GET", f"{api.url}v1/preferences")[1] == [])

    status, fb = call("POST", f"{api.url}v1/feedback",
                      {"component": "web-07", "ts": T0, "verdict": "FALSE_POSITIVE"})
    assert status == 202 and fb["operator"] == "anonymous"
    assert call("POST", f"{api.url}v1/feedback",
                {"component": "nosuch", "ts": T0, "verdict": "TRUE_POSITIVE"})[0] == 404
    got = read_all(settings, "feedback", until=lambda r: len(r) >= 1, codec=codec)
    assert got[0][3]["verdict"] == "FALSE_POSITIVE" and got[0][3]["ts"] == T0


def test_sse_sends_an_update(settings: Settings, api: ApiServer) -> None:
    produce(settings, [("risk", "RiskScore", risk("web-09", T0, 0.5))])
    wait_for(lambda: components(api))
    status, text = call("GET", f"{api.url}v1/events?once=true")
    assert status == 200 and text.startswith("event: update\ndata: {")
    assert '"id":"web-09"' in text


def test_a_page_is_seen_with_since_when(settings: Settings, api: ApiServer) -> None:
    produce(settings, [
        ("risk", "RiskScore", risk("web-03", T0, 0.2, alarm=False)),
        ("risk", "RiskScore", risk("web-03", T0 + 60_000, 0.5, alarm=True)),
        ("risk", "RiskScore", risk("web-03", T0 + 120_000, 0.2, alarm=True)),  # held
        ("risk", "RiskScore", risk("web-04", T0 + 120_000, 0.1, alarm=False)),
        ("risk", "RiskScore", risk("old-05", T0 + 120_000, 0.9)),  # as before s29: unknown
    ])
    paging = wait_for(lambda: len(components(api)) == 3 and components(api, "?alarm=true"))
    assert [(c["id"], c["alarm_since_ms"]) for c in paging] == [("web-03", T0 + 60_000)]
    assert [c["id"] for c in components(api, "?alarm=false")] == ["web-04"]
    assert {c["id"]: c["alarm"] for c in components(api)}["old-05"] is None
    status, hist = call("GET", f"{api.url}v1/components/web-03/risk")
    assert status == 200 and hist["alarm"] is True and hist["alarm_since_ms"] == T0 + 60_000
    assert [p["alarm"] for p in hist["points"]] == [False, True, True]
    text = call("GET", f"{api.url}metrics")[1]
    assert 'forewarn_component_alarm{component="web-03"} 1.0' in text
    assert 'forewarn_component_alarm{component="web-04"} 0.0' in text
    assert 'forewarn_component_alarm{component="old-05"}' not in text
    assert "forewarn_components_alarm_firing 1.0" in text
    status, sse = call("GET", f"{api.url}v1/events?once=true")
    assert '"paging_total":1' in sse and sse.index('"id":"web-03"') < sse.index('"id":"old-05"')

    # released: the page stops, and nothing is firing any more
    produce(settings, [("risk", "RiskScore", risk("web-03", T0 + 1_200_000, 0.1, alarm=False))])
    wait_for(lambda: components(api, "?alarm=false") and len(components(api, "?alarm=false")) == 2)
    assert components(api, "?alarm=true") == []
    assert "forewarn_components_alarm_firing 0.0" in call("GET", f"{api.url}metrics")[1]
    assert call("GET", f"{api.url}v1/components?alarm=maybe")[0] == 422


def test_tokens_guard_reads_and_writes(settings: Settings) -> None:
    tokens = parse_tokens("ops:write:writer-secret,graf:read:reader-secret")
    server = ApiServer(settings, port=free_port(), tokens=tokens).start()
    try:
        url = server.url
        assert call("GET", f"{url}v1/components")[0] == 401
        assert call("GET", f"{url}v1/components", token="wrong-secret")[0] == 401
        assert call("GET", f"{url}v1/components", token="reader-secret")[0] == 200
        body = {"criticality": 3}
        assert call("PUT", f"{url}v1/preferences/a", body, token="reader-secret")[0] == 403
        assert call("PUT", f"{url}v1/preferences/a", body, token="writer-secret")[0] == 200
        assert call("GET", f"{url}v1/events?once=true&access_token=reader-secret")[0] == 200
        assert call("GET", f"{url}healthz")[0] == 200  # probes need no token
    finally:
        server.close()


def test_refuses_an_open_api_off_loopback_and_a_taken_port(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="FOREWARN_API_TOKENS"):
        ApiServer(settings, host="0.0.0.0", port=free_port())
    server = ApiServer(settings, port=free_port()).start()
    try:
        with pytest.raises(ConfigError, match="another process holds it"):
            ApiServer(settings, port=server.port)
    finally:
        server.close()


def test_feedback_reaches_the_engine_and_the_worker_models(settings: Settings,
                                                           api: ApiServer) -> None:
    import threading
    import time

    from actuators.backends.dryrun import DryRunBackend
    from processors.pipeline import Pipeline, PipelineConfig
    from streams.runtime.actions import ActionFeed
    from streams.runtime.actuator import Actuator

    pipeline = Pipeline(PipelineConfig())
    scored = [r["ts"] for ts, used in ((10_000, 60.0), (90_000, 61.0))
              for r in pipeline.ingest({"component": "web-11", "host": "web-11", "ts": T0 + ts,
                                        "metrics": {"disk.used_pct": used}, "tags": {}}).risk]
    assert len(scored) == 1  # one window scored, its label pending
    judged = scored[0]
    feed = ActionFeed(settings, pipeline, Codec(), every_s=0)
    actuator = Actuator(settings, DryRunBackend(), persist=False)
    stop = threading.Event()
    thread = threading.Thread(target=actuator.run, args=(stop,), daemon=True)
    thread.start()
    try:
        produce(settings, [("risk", "RiskScore", risk("web-11", judged, 0.2))])
        wait_for(lambda: components(api))
        body = {"component": "web-11", "ts": judged, "verdict": "FALSE_POSITIVE"}

        def posted_and_learnt() -> bool:
            # the feed starts at the end of its topics, found when it first fetches: a verdict
            # posted before that is not seen, so post again until one is
            assert call("POST", f"{api.url}v1/feedback", body)[0] == 202
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and feed.feedback_learnt == 0:
                feed.drain()
                time.sleep(0.1)
            return feed.feedback_learnt == 1

        def offset() -> float:
            comp = actuator.engine.snapshot()["components"].get("web-11") or {}
            return float(comp.get("alarm_offset", 0.0))

        wait_for(posted_and_learnt, timeout_s=60)
        wait_for(lambda: offset() > 0)
    finally:
        stop.set()
        thread.join(10)
        actuator.close()
        feed.close()


def test_an_open_event_stream_does_not_hold_the_shutdown(settings: Settings) -> None:
    import threading
    import urllib.request

    server = ApiServer(settings, port=free_port()).start()
    got: list[bytes] = []

    def listen() -> None:
        with urllib.request.urlopen(f"{server.url}v1/events", timeout=60) as resp:
            while chunk := resp.read(64):
                got.append(chunk)

    client = threading.Thread(target=listen, daemon=True)
    client.start()
    wait_for(lambda: got)  # the stream is open and has sent its first update
    server.close()
    assert server._thread is not None and not server._thread.is_alive()  # noqa: SLF001
    client.join(30)
    assert not client.is_alive()  # the stream ended: the client saw its end
