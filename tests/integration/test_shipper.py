"""The host shipper: its buffer and wire format (pure), then against real brokers — the
session's, and brokers of its own that it stops and restarts on the same port (of the session's
kind: Tansu, or one Apache Kafka node under ``make test-kafka``)."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from schemas.codec import Codec, WireFormat
from streams.settings import Settings
from streams.ship.collect import CgroupCollector, HostCollector, HttpProbes, Sample
from streams.ship.shipper import BatchAssembler, SampleBuffer, Shipper
from streams.topics import ensure_topics
from tests.conftest import restartable_broker
from tests.kafkautil import read_all

codec = Codec()
REPO = Path(__file__).resolve().parents[2]


def wait_until(cond: Callable[[], bool], timeout_s: float = 60.0, what: str = "") -> None:
    """A bound on waiting, not a timing assertion."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up after {timeout_s}s waiting for {what or cond}")


class Recording:
    """Wraps a collector and remembers the timestamp of every sample it returned."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.ts: list[int] = []

    def collect(self, ts_ms: int, mono_s: float) -> list[Sample]:
        out: list[Sample] = self.inner.collect(ts_ms, mono_s)
        self.ts.extend(s.ts for s in out)
        return out

    def close(self) -> None:
        self.inner.close()


def points_of(records: list[Any], component: str) -> list[dict[str, Any]]:
    return [p for r in records if r[3]["component"] == component for p in r[3]["points"]]


def ts_of(records: list[Any], component: str) -> set[int]:
    return {p["ts"] for p in points_of(records, component)}


# ------------------------------------------------------------------------ pure: buffer


def test_buffer_keeps_order_through_failures_and_drops_the_oldest() -> None:
    buf = SampleBuffer(bound=4)
    for i in range(3):
        buf.add("a", i, b"%d" % i, b"")
    [(m1, pts)] = buf.take(max_messages=1, max_points=2)
    assert [p.ts for p in pts] == [0, 1] and buf.size == 3
    assert buf.add("a", 3, b"3", b"") == 0
    assert buf.add("a", 4, b"4", b"") == 1  # 2 in flight + 3 queued > 4: the oldest queued go
    assert [p.ts for p in buf.queued] == [3, 4] and buf.dropped == 1
    assert buf.requeue(m1) == 0  # a failed message comes back in collection order
    assert [p.ts for p in buf.queued] == [0, 1, 3, 4]
    assert buf.add("a", 5, b"5", b"") == 1
    assert [p.ts for p in buf.queued] == [1, 3, 4, 5] and buf.dropped == 2 and buf.size == 4


def test_buffer_acks_forget_and_messages_are_per_component() -> None:
    buf = SampleBuffer(bound=100)
    for i in range(5):
        buf.add("a", i, b"a", b"")
        buf.add("b", i, b"b", b"")
    msgs = buf.take(max_messages=10, max_points=3, ready=lambda p: True)
    assert [(p[0].component, len(p)) for _, p in msgs] == [("a", 3), ("b", 3), ("a", 2),
                                                            ("b", 2)]
    assert not buf.queued and buf.size == 10
    assert sum(buf.ack(m) for m, _ in msgs) == 10 and buf.size == 0
    assert buf.ack(msgs[0][0]) == 0  # a second report for the same message changes nothing


def test_buffer_holds_components_that_are_not_ready() -> None:
    buf = SampleBuffer(bound=100)
    buf.add("a", 0, b"", b"")
    buf.add("b", 0, b"", b"")
    buf.add("b", 1, b"", b"")
    msgs = buf.take(10, 10, ready=lambda pts: len(pts) >= 2)
    assert [p[0].component for _, p in msgs] == ["b"] and len(buf.queued) == 1


@pytest.mark.parametrize("wire", ["avro", "json"])
def test_assembled_batches_are_exactly_the_codecs_encoding(wire: WireFormat) -> None:
    c = Codec(wire)
    a = BatchAssembler(c, "t.metrics")
    points: list[dict[str, Any]] = [
        {"ts": 1_000 * i, "metrics": {"cpu.util": i / 100, "load.1m": 1.5}} for i in range(70)
    ]
    header = a.header("web-1/nginx.service", "web-1", {"cgroup": "system.slice/nginx.service"})
    msg = a.message(header, [a.point(p["ts"], p["metrics"]) for p in points])
    record = {"component": "web-1/nginx.service", "host": "web-1",
              "tags": {"cgroup": "system.slice/nginx.service"}, "points": points}
    assert msg == c.encode("MetricBatch", record)
    assert c.decode(msg, ("MetricBatch",))[1]["points"] == points


# -------------------------------------------------------------------- against the broker


@pytest.fixture
def http_service() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(200 if self.path == "/ok" else 503)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            """Keep the test's output quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        t.join(10)


def fake_cgroup(root: Path, rel: str, usage_usec: int) -> None:
    d = root / rel
    d.mkdir(parents=True, exist_ok=True)
    (d / "cpu.stat").write_text(f"usage_usec {usage_usec}\nthrottled_usec 0\n")
    (d / "cpu.max").write_text("200000 100000\n")
    (d / "memory.current").write_text("104857600\n")
    (d / "memory.max").write_text("209715200\n")


@pytest.mark.integration
def test_shipped_samples_arrive_batched_with_cgroups_and_probes(
    settings: Settings, tmp_path: Path, http_service: str
) -> None:
    host = f"ship-{uuid.uuid4().hex[:6]}"
    fake_cgroup(tmp_path, "system.slice/api.service", 1_000_000)
    hostc = Recording(HostCollector(host))
    probes = HttpProbes(host, {"api": f"{http_service}/ok", "broken": f"{http_service}/no"},
                        timeout_s=2.0)
    cgroups = CgroupCollector(host, ["system.slice/*.service"], root=str(tmp_path))
    shipper = Shipper(settings, [hostc, cgroups, probes], interval_s=0.2, per_message=3)
    stop = threading.Event()
    t = threading.Thread(target=shipper.run, args=(stop,), daemon=True)
    t.start()
    try:
        wait_until(lambda: len(hostc.ts) >= 12, what="12 collections")
    finally:
        stop.set()
        t.join(30)
        assert shipper.close() == 0
    assert shipper.dropped == 0
    records = read_all(settings, "metrics", codec=codec,
                       until=lambda r: ts_of(r, host) >= set(hostc.ts))
    assert ts_of(records, host) >= set(hostc.ts)
    mine = [r for r in records if r[3]["component"] == host]
    assert all(r[2] == host.encode() for r in mine)  # keyed by component
    assert max(len(r[3]["points"]) for r in mine) == 3
    later = points_of(records, host)[-1]["metrics"]
    assert 0.0 <= later["cpu.util"] <= 1.0 and "mem.used_pct" in later and "load.1m" in later

    api = points_of(records, f"{host}/api")
    assert api and api[-1]["metrics"]["http.status"] == 200.0
    assert api[-1]["metrics"]["errors.rate"] == 0.0 and "latency.p99_ms" in api[-1]["metrics"]
    broken = points_of(records, f"{host}/broken")
    assert broken and broken[-1]["metrics"]["http.status"] == 503.0
    assert broken[-1]["metrics"]["errors.rate"] == 1.0
    cg = [r[3] for r in records if r[3]["component"] == f"{host}/api.service"]
    assert cg and cg[0]["tags"] == {"cgroup": "system.slice/api.service"}
    assert cg[0]["points"][0]["metrics"]["mem.used_pct"] == 50.0


@pytest.mark.integration
def test_ship_command_runs_and_exits(settings: Settings) -> None:
    host = f"cli-{uuid.uuid4().hex[:6]}"
    shim = ("import sys, streams.cli.commands as c; "
            "sys.exit(c.main(sys.argv[1:]))")
    env = {**os.environ, "FOREWARN_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
           "FOREWARN_TOPIC_PREFIX": settings.topic_prefix}
    proc = subprocess.run(
        [sys.executable, "-c", shim, "ship", "--host", host, "--interval", "0.2",
         "--duration", "2"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    records = read_all(settings, "metrics", codec=codec, until=lambda r: len(ts_of(r, host)) >= 3)
    assert len(ts_of(records, host)) >= 3


def partitions_of(bootstrap: str, topic: str) -> int:
    meta = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    return len(meta.topics[topic].partitions)


@pytest.mark.integration
def test_broker_restart_loses_no_sample(tmp_path: Path) -> None:
    with restartable_broker(tmp_path) as broker:
        s = Settings.load(env={}, bootstrap_servers=broker.bootstrap_servers,
                          topic_prefix=f"r{uuid.uuid4().hex[:6]}.")
        ensure_topics(s)
        host = "restart-1"
        rec = Recording(HostCollector(host))
        shipper = Shipper(s, [rec], interval_s=0.2, delivery_timeout_s=2.0)
        stop = threading.Event()
        t = threading.Thread(target=shipper.run, args=(stop,), daemon=True)
        t.start()
        try:
            wait_until(lambda: shipper.stats.acked >= 5, what="first acknowledgements")
            broker.stop()
            cut = len(rec.ts)  # from here on, nothing can have reached the old broker
            wait_until(lambda: len(rec.ts) >= cut + 15, what="collections during the outage")
            assert shipper.buffered >= 10  # kept while the broker is away
            broker.start()
            back = len(rec.ts)
            wait_until(lambda: shipper.stats.acked > 0 and shipper.healthy
                       and len(rec.ts) > back + 5 and shipper.buffered <= 2,
                       what="the backlog to drain")
        finally:
            stop.set()
            t.join(30)
            left = shipper.close()
        assert left == 0 and shipper.dropped == 0
        after = set(rec.ts[cut:])
        records = read_all(s, "metrics", codec=codec, until=lambda r: ts_of(r, host) >= after)
        assert sorted(after - ts_of(records, host)) == []
        # Tansu came back empty: its topic came from ensure_topics, with the catalog's
        # partitions (Apache Kafka kept its own).
        assert partitions_of(broker.bootstrap_servers, s.topic("metrics")) == s.partitions


@pytest.mark.integration
def test_full_buffer_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    with restartable_broker(tmp_path) as broker:
        s = Settings.load(env={}, bootstrap_servers=broker.bootstrap_servers,
                          topic_prefix=f"d{uuid.uuid4().hex[:6]}.")
        ensure_topics(s)
        host = "drop-1"
        bound = 5
        rec = Recording(HostCollector(host))
        shipper = Shipper(s, [rec], interval_s=1.0, buffer_samples=bound,
                          delivery_timeout_s=2.0)
        base = shipper.now_slot_ms()

        def drained() -> bool:
            shipper.service(0.1)
            return shipper.buffered == 0

        try:
            for i in range(3):
                shipper.tick(base + i * 1000)
            wait_until(drained, what="first samples acknowledged")
            broker.stop()
            for i in range(3, 23):  # 20 collections while the broker is away
                shipper.tick(base + i * 1000)
                shipper.service(0.05)
            end = time.monotonic() + 3 * shipper.delivery_timeout_s  # in-flight ones fail
            while time.monotonic() < end:
                shipper.service(0.2)
            assert shipper.buffered <= bound
            broker.start()
            wait_until(drained, what="the kept samples to be delivered")
        finally:
            left = shipper.close()
        assert left == 0
        outage = rec.ts[3:]
        records = read_all(s, "metrics", codec=codec,
                           until=lambda r: ts_of(r, host) >= set(outage[-(bound - 1):]))
        delivered = ts_of(records, host)
        missing = set(outage) - delivered
        assert set(outage[-(bound - 1):]) <= delivered  # the newest are kept
        assert len(missing) >= len(outage) - bound and shipper.dropped == len(missing)
