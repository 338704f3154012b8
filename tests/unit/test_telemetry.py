"""The Prometheus exporter every process uses: /metrics only, on the address it is given."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from schemas.errors import ConfigError
from streams.runtime.broker import free_port
from streams.telemetry import serve


def test_serves_metrics_only_on_its_path_and_address() -> None:
    registry = CollectorRegistry()
    Counter("forewarn_test_things", "things", registry=registry).inc(3)
    port = free_port()
    server = serve(port, registry, "127.0.0.1")
    assert server is not None
    try:
        assert server.server_address[0] == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            assert b"forewarn_test_things_total 3.0" in resp.read()
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
        assert err.value.code == 404
        err.value.close()
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            serve(port, registry, "127.0.0.1")
    finally:
        server.shutdown()
        server.server_close()


def test_port_zero_is_off() -> None:
    assert serve(0, CollectorRegistry()) is None


def test_counters_registry_exports_a_stats_object() -> None:
    from prometheus_client import generate_latest

    from streams.telemetry import counters_registry

    stats = {"messages": 3, "dead": {"decode": 2}, "name": "not a number"}
    text = generate_latest(counters_registry("forewarn_ingest", lambda: stats)).decode()
    assert "forewarn_ingest_messages_total 3.0" in text
    assert 'forewarn_ingest_dead_total{kind="decode"} 2.0' in text
    assert "not a number" not in text
    stats["messages"] = 5  # read at scrape time
    assert "forewarn_ingest_messages_total 5.0" in generate_latest(
        counters_registry("forewarn_ingest", lambda: stats)).decode()
