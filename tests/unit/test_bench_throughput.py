"""Issue #14: the hot path's codec shortcut, the bench's JSON contract, the memory bench."""

from __future__ import annotations

import io

import fastavro

from schemas.codec import Codec
from streams.bench.main import last_line
from streams.bench.memory import child
from streams.sim.examples import fleet_samples, risk_event


def _plain(codec: Codec, event_type: str, record: dict) -> bytes:
    """What the codec wrote before: fastavro given the unmarked parsed schema."""
    schema = codec.schema(event_type)
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema.parsed, record, strict_allow_default=True)
    return buf.getvalue()


def test_marked_schemas_write_and_read_the_same_bytes() -> None:
    codec = Codec()
    sample = fleet_samples(1)[0]
    batch = {"component": sample["component"], "host": sample["host"], "tags": {},
             "points": [{"ts": sample["ts"], "metrics": sample["metrics"]}]}
    health = {"component": "web-1", "ts": 1, "status": "WARN", "metric": "cpu.util",
              "value": 0.91, "threshold": 0.9, "rule": "cpu"}
    for event_type, record in (("MetricSample", sample), ("MetricBatch", batch),
                               ("HealthSignal", health), ("RiskScore", risk_event("c", 5))):
        data = codec.encode(event_type, record)
        assert data[10:] == _plain(codec, event_type, record)
        assert codec.decode(data) == (event_type, fastavro.schemaless_reader(
            io.BytesIO(data[10:]), codec.schema(event_type).parsed, None))


def test_json_last_line_puts_the_worker_contract_at_the_top() -> None:
    results = {"machine": {"cpus": 2},
               "worker": {"worker_samples_per_s": 10.0, "naive_samples_per_s": 2.0,
                          "raw_consume_samples_per_s": 100.0, "state_bytes_per_component": 9.0},
               "memory": {"c1000_rss_after_mb": 5.0}}
    line = last_line(results)
    assert line["worker_samples_per_s"] == 10.0
    assert line["state_bytes_per_component"] == 9.0
    assert line["memory"] == {"c1000_rss_after_mb": 5.0}
    assert "machine" not in line


def test_memory_child_holds_every_component_and_reports_its_size() -> None:
    got = child(20, warm_s=600)
    assert got["held"] == 20 and got["metrics"] == 12
    assert 0 < got["state_bytes_per_component"] < 50_000
    assert got["rss_after_mb"] >= got["rss_before_mb"] > 0


def test_memory_bench_skips_a_count_that_would_not_fit() -> None:
    from streams.bench.memory import bench_memory

    got = bench_memory(counts=(20, 10**9))
    assert got["c20_rss_per_component_bytes"] > 0
    assert "c1000000000_rss_after_mb" not in got
    assert got["c1000000000_skipped_needs_mb"] > got["c1000000000_skipped_free_mb"] / 2
