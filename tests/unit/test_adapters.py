"""Ingest adapters: real-shaped messages of each shipper (tests/data/formats) in, forewarn
MetricSample dicts out; awkward inputs; counter rates and resets; state; fuzzing."""

from __future__ import annotations

import ast
import contextlib
import doctest
import math
import pickle
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import fastavro
import fastavro.validation
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import streams.ingest as adapters_pkg
from streams.ingest import (
    AdapterError,
    ComponentRule,
    OtlpJsonAdapter,
    PrometheusAdapter,
    TelegrafAdapter,
    VectorAdapter,
    common,
    component,
    get_adapter,
)
from streams.ingest.common import norm_name, quantile_name, to_number, to_ts_ms
from streams.ingest.component import strip_port
from streams.ingest.counters import CounterState, Joiner, bucket_quantile

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "formats"
T0_MS = 1_714_564_800_000  # 2024-05-01T12:00:00Z, the first scrape of every example file
FORMATS = ("telegraf", "prometheus", "otlp-json", "vector")
SCHEMA = fastavro.parse_schema(orjson.loads((ROOT / "schemas/avro/MetricSample.avsc").read_bytes()))


def lines(name: str) -> list[bytes]:
    return [line for line in (DATA / name).read_bytes().splitlines() if line.strip()]


def run(adapter: Any, messages: list[bytes], recv_ts_ms: int | None = None) -> list[dict]:
    out: list[dict] = []
    for m in messages:
        out += adapter.parse(m, recv_ts_ms)
    return out + adapter.flush()


def merged(samples: list[dict]) -> dict[tuple[str, int], dict[str, float]]:
    """All metrics per (component, ts), however many messages they came in."""
    acc: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
    for s in samples:
        acc[(s["component"], s["ts"])].update(s["metrics"])
    return dict(acc)


def series(samples: list[dict], component: str, metric: str) -> dict[int, float]:
    return {
        ts - T0_MS: m[metric]
        for (c, ts), m in merged(samples).items()
        if c == component and metric in m
    }


def case(fmt: str, name: str) -> list[bytes]:
    for line in lines(f"{fmt.removesuffix('-json')}_awkward.jsonl"):
        c = orjson.loads(line)
        if c["case"] == name:
            if "text" in c:
                return [c["text"].encode()]
            return [orjson.dumps(m) for m in c.get("messages", [c.get("message")])]
    raise KeyError(name)


def assert_same(a: dict[Any, dict[str, float]], b: dict[Any, dict[str, float]]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == pytest.approx(b[key]), key


def assert_contract(samples: list[dict]) -> None:
    """Every sample is a MetricSample: the Avro record, finite metrics, one per key per call."""
    for s in samples:
        assert set(s) == {"component", "host", "ts", "metrics", "tags"}
        assert isinstance(s["ts"], int) and not isinstance(s["ts"], bool) and s["ts"] >= 0
        assert s["component"] and s["host"] and s["metrics"]
        assert all(type(v) is float and math.isfinite(v) for v in s["metrics"].values())
        assert all(type(k) is str and type(v) is str for k, v in s["tags"].items())
        assert fastavro.validation.validate(s, SCHEMA, raise_errors=False)


REALISTIC = {
    "telegraf": "telegraf_messages.jsonl",
    "prometheus": "prometheus_messages.jsonl",
    "otlp-json": "otlp_messages.jsonl",
    "vector": "vector_messages.jsonl",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_realistic_messages_give_valid_samples(fmt: str) -> None:
    adapter = get_adapter(fmt)
    samples = run(adapter, lines(REALISTIC[fmt]))
    assert samples
    assert_contract(samples)
    per_call = [(s["component"], s["ts"]) for s in adapter.parse(lines(REALISTIC[fmt])[0])]
    assert len(per_call) == len(set(per_call)), "one sample per component and ts per message"
    assert adapter.stats["rejected"] == 0


# ------------------------------------------------------------------------------ Telegraf


def test_telegraf_host_metrics() -> None:
    samples = run(TelegrafAdapter(), lines("telegraf_messages.jsonl"))
    assert {s["component"] for s in samples} == {"web-17"}
    # cpu-total only: (100 - 89.6) / 100; cores pass through under their own names
    assert series(samples, "web-17", "cpu.util") == pytest.approx(
        {0: 0.104, 10_000: 0.104, 20_000: 0.104}
    )
    assert series(samples, "web-17", "cpu.usage_idle.cpu0") == {0: 91.2, 10_000: 90.2, 20_000: 89.2}
    assert series(samples, "web-17", "cpu.iowait")[0] == pytest.approx(0.012)
    assert series(samples, "web-17", "mem.used_pct")[0] == pytest.approx(64.999986)
    assert series(samples, "web-17", "load.1m") == pytest.approx(
        {0: 0.42, 10_000: 0.52, 20_000: 0.62}
    )
    # counters: no rate on the first scrape; eth0 only (lo is not host traffic); u64-sized
    assert series(samples, "web-17", "net.rx_bytes_s") == {10_000: 125_000.0, 20_000: 125_000.0}
    assert series(samples, "web-17", "net.tx_bytes_s") == {10_000: 50_000.0, 20_000: 50_000.0}
    assert series(samples, "web-17", "net.bytes_recv_s.lo") == {
        10_000: 125_000.0,
        20_000: 125_000.0,
    }
    # whole disks only (sda1 is a partition of sda); io_time is ms busy per second
    assert series(samples, "web-17", "disk.read_bytes_s") == {10_000: 40_960.0, 20_000: 40_960.0}
    assert series(samples, "web-17", "disk.io_util") == {10_000: 0.025, 20_000: 0.025}
    # the fullest real filesystem (tmpfs /run at 100 % does not count)
    used = series(samples, "web-17", "disk.used_pct")
    assert sorted(used) == [0, 10_000, 20_000] and used[0] == pytest.approx(67.784814)
    assert series(samples, "web-17", "disk.used_percent.tmpfs.run")[0] == 100.0


def test_telegraf_string_field_is_counted_not_dropped_silently() -> None:
    adapter = TelegrafAdapter()
    run(adapter, lines("telegraf_messages.jsonl"))
    assert adapter.stats["skipped_values"] == 3  # system uptime_format, once per scrape


def test_telegraf_batch_format_settles_joins_in_one_message() -> None:
    [sample] = TelegrafAdapter().parse((DATA / "telegraf_batch.json").read_bytes())
    assert sample["component"] == "db-3" and sample["ts"] == T0_MS
    assert sample["metrics"]["disk.used_pct"] == pytest.approx(67.784814)
    assert sample["metrics"]["cpu.util"] == pytest.approx(0.104)
    assert "net.rx_bytes_s" not in sample["metrics"]  # counters need a second scrape


def test_telegraf_newline_separated_metrics_with_ms_timestamps() -> None:
    samples = TelegrafAdapter(timestamp_units="ms").parse(
        (DATA / "telegraf_lines_ms.txt").read_bytes()
    )
    assert {(s["component"], s["ts"]) for s in samples} == {("cache-2", T0_MS + 10_250)}
    assert merged(samples)[("cache-2", T0_MS + 10_250)]["mem.used_pct"] == pytest.approx(65.059998)


@pytest.mark.parametrize(
    ("name", "ts"),
    [
        ("ts_ms", T0_MS + 250),
        ("ts_us", T0_MS + 250),
        ("ts_ns", T0_MS + 250),
        ("ts_float_s", T0_MS + 250),
        ("ts_rfc3339", T0_MS + 250),
    ],
)
def test_telegraf_timestamp_units_by_magnitude(name: str, ts: int) -> None:
    [sample] = TelegrafAdapter().parse(case("telegraf", name)[0])
    assert sample["ts"] == ts and sample["metrics"] == {"cpu.util": pytest.approx(0.1)}


def test_telegraf_configured_timestamp_unit_overrides_guess() -> None:
    msg = b'{"fields":{"load1":1},"name":"system","tags":{"host":"h"},"timestamp":1714564800}'
    assert TelegrafAdapter(timestamp_units="ms").parse(msg)[0]["ts"] == 1_714_564_800
    with pytest.raises(ValueError, match="timestamp_units"):
        TelegrafAdapter(timestamp_units="fortnights")


def test_telegraf_awkward_values() -> None:
    adapter = TelegrafAdapter()
    [sample] = adapter.parse(case("telegraf", "string_values")[0])
    # "97.5" is read, True is 1, NaN/±Inf/words/objects/lists/null are skipped and counted
    assert sample["metrics"] == {"cpu.util": pytest.approx(0.025), "cpu.iowait": 0.01}
    assert adapter.stats["skipped_values"] == 7


def test_telegraf_missing_timestamp_uses_receive_time_or_fails() -> None:
    msg = case("telegraf", "ts_missing")[0]
    assert TelegrafAdapter().parse(msg, recv_ts_ms=1_700_000_000_123)[0]["ts"] == 1_700_000_000_123
    with pytest.raises(AdapterError, match="no timestamp"):
        TelegrafAdapter().parse(msg)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ts_garbage", "unreadable timestamp"),
        ("no_host", "no tag names the component"),
        ("line_protocol", "not JSON"),
        ("json_array_of_numbers", "none of 3 metrics"),
        ("json_string", "expected an object"),
        ("fields_not_object", '"fields"'),
        ("batch_all_bad", "none of 2 metrics"),
    ],
)
def test_telegraf_unreadable_messages_raise_adapter_error(name: str, reason: str) -> None:
    adapter = TelegrafAdapter()
    with pytest.raises(AdapterError, match=reason) as err:
        adapter.parse(case("telegraf", name)[0], recv_ts_ms=T0_MS)
    assert str(err.value).startswith("telegraf adapter: ")
    assert adapter.stats["rejected"] == 1


def test_telegraf_empty_and_partial_batches() -> None:
    adapter = TelegrafAdapter()
    assert adapter.parse(case("telegraf", "empty_batch")[0]) == []
    assert adapter.parse(case("telegraf", "empty_fields")[0]) == []
    assert adapter.parse(case("telegraf", "nested_junk")[0]) == []
    [sample] = adapter.parse(case("telegraf", "batch_partial")[0])
    assert sample["metrics"] == {"cpu.util": 0.25}
    assert adapter.stats["skipped_points"] == 2


def test_telegraf_odd_names_are_normalised() -> None:
    [sample] = TelegrafAdapter().parse(case("telegraf", "odd_names")[0])
    assert sample["component"] == "WIN-7"
    assert sample["metrics"] == {"win_disk_stats.used_space": 42.5}


@pytest.mark.parametrize("fmt", FORMATS)
def test_counter_reset_rates_from_zero(fmt: str) -> None:
    adapter = get_adapter(fmt)
    rates = [
        [v for s in adapter.parse(m) for v in s["metrics"].values()]
        for m in case(fmt, "counter_reset")
    ]
    assert rates[0] == []  # the first observation gives no rate
    expected = {
        "telegraf": [[200.0], [50.0], [100.0]],  # 1000 → 3000 → 500 (reset) → 1500, 10 s apart
        "prometheus": [[20.0], [2.0], [20.0]],  # 100 → 400 → 30 (reset) → 330, 15 s apart
        "otlp-json": [[100.0], [420.0], [50.0]],  # start time moved to T0+15 s: 2100 in 5 s
        "vector": [[10.0], [5.0], [10.0]],  # 100 → 200 → 50 (reset) → 150, 10 s apart
    }[fmt]
    assert rates[1:] == expected
    assert adapter.stats["counter_reset"] == 1 and adapter.stats["counter_first"] == 1


# ---------------------------------------------------------------------------- Prometheus


def test_prometheus_node_exporter_across_single_sample_messages() -> None:
    samples = run(PrometheusAdapter(), lines("prometheus_messages.jsonl"))
    assert {s["component"] for s in samples} == {"web-17", "web-17/checkout", "10.0.3.7/payments"}
    # idle rate 0.8 on cpu0 and 0.6 on cpu1, averaged over CPUs
    assert series(samples, "web-17", "cpu.util") == pytest.approx({15_000: 0.3, 30_000: 0.3})
    assert series(samples, "web-17", "cpu.user") == pytest.approx({15_000: 0.23, 30_000: 0.23})
    assert series(samples, "web-17", "mem.used_pct") == pytest.approx(
        {0: 75.0, 15_000: 75.006, 30_000: 75.012}, abs=1e-3
    )
    assert series(samples, "web-17", "load.1m") == pytest.approx(
        {0: 0.42, 15_000: 0.52, 30_000: 0.62}
    )
    # eth0 only: lo and the container's veth pass through under their own names
    assert series(samples, "web-17", "net.rx_bytes_s") == {15_000: 100_000.0, 30_000: 100_000.0}
    assert series(samples, "web-17", "node_network_receive_bytes_s.veth1a2b3c")[15_000] == 100_000.0
    assert series(samples, "web-17", "disk.read_bytes_s") == {15_000: 40_960.0, 30_000: 40_960.0}
    assert series(samples, "web-17", "disk.io_util") == {15_000: 0.25, 30_000: 0.25}
    assert series(samples, "web-17", "disk.used_pct")[0] == pytest.approx(70.0, abs=1e-6)
    # histogram buckets of both handlers → p99 0.5 + 0.5 · 10/15 s; summary quantile × 1000
    assert series(samples, "web-17/checkout", "latency.p99_ms") == pytest.approx(
        {15_000: 833.333, 30_000: 833.333}
    )
    assert series(samples, "10.0.3.7/payments", "latency.p99_ms") == pytest.approx(
        {0: 120.0, 15_000: 130.0, 30_000: 140.0}
    )
    assert series(samples, "10.0.3.7/payments", "payment_request_duration_seconds.p50")[0] == 0.012
    assert series(samples, "web-17/checkout", "http_requests_s.200.get")[15_000] == pytest.approx(
        133.333, abs=1e-3
    )
    assert series(samples, "web-17/checkout", "go_goroutines") == {
        0: 42.0,
        15_000: 43.0,
        30_000: 44.0,
    }


def test_prometheus_joins_do_not_depend_on_arrival_order() -> None:
    msgs = lines("prometheus_messages.jsonl")
    scrapes = [msgs[i * 77 : (i + 1) * 77] for i in range(3)]
    rng = random.Random(3)
    for scrape in scrapes:
        rng.shuffle(scrape)
    a = merged(run(PrometheusAdapter(), msgs))
    b = merged(run(PrometheusAdapter(), [m for s in scrapes for m in s]))
    for metric in ("cpu.util", "mem.used_pct", "net.rx_bytes_s", "latency.p99_ms", "disk.used_pct"):
        assert {k: v[metric] for k, v in a.items() if metric in v} == pytest.approx(
            {k: v[metric] for k, v in b.items() if metric in v}
        )


def test_prometheus_awkward_values() -> None:
    adapter = PrometheusAdapter()
    for name in ("stale_nan", "pos_inf", "neg_inf"):  # staleness markers are not errors
        assert adapter.parse(case("prometheus", name)[0]) == []
    assert adapter.stats["skipped_values"] == 3 and adapter.stats["rejected"] == 0
    assert adapter.parse(case("prometheus", "exponent")[0])[0]["metrics"] == {"load.1m": 0.15}
    assert adapter.parse(case("prometheus", "number_not_string")[0])[0]["metrics"] == {
        "load.1m": 0.25
    }
    [legacy] = adapter.parse(case("prometheus", "legacy")[0])
    assert (legacy["component"], legacy["ts"], legacy["metrics"]) == (
        "web-17",
        T0_MS,
        {"load.5m": 0.75},
    )
    assert adapter.parse(case("prometheus", "ts_ms_number")[0])[0]["ts"] == T0_MS
    assert adapter.parse(case("prometheus", "name_only_in_labels")[0])[0]["metrics"] == {
        "load.15m": 0.3
    }
    [ipv6] = adapter.parse(case("prometheus", "ipv6_instance")[0])
    assert ipv6["component"] == ipv6["host"] == "2001:db8::17"
    [odd] = adapter.parse(case("prometheus", "labels_not_strings")[0])
    assert odd["metrics"] == {"custom_temp_celsius.true.3": 41.5}
    samples = adapter.parse(case("prometheus", "array_of_samples")[0])
    assert merged(samples) == {("web-17", T0_MS): {"load.1m": 0.5, "load.5m": 0.4}}


def test_prometheus_u64_value_as_string_is_exact() -> None:
    adapter = PrometheusAdapter()
    msg = orjson.loads(case("prometheus", "u64_gauge")[0])
    msg["name"] = msg["labels"]["__name__"] = "big_counter_total"
    adapter.parse(orjson.dumps(msg))
    msg.update(timestamp="2024-05-01T12:00:10Z", value="18446744073709551625")  # 2^64 + 9
    [sample] = adapter.parse(orjson.dumps(msg))
    assert sample["metrics"] == {"big_counter_s": 1.0}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("no_value", 'no "value"'),
        ("no_instance", "no tag names the component"),
        ("binary", "not JSON"),
        ("empty", "empty message"),
        ("whitespace", "empty message"),
    ],
)
def test_prometheus_unreadable_messages(name: str, reason: str) -> None:
    with pytest.raises(AdapterError, match=reason):
        PrometheusAdapter().parse(case("prometheus", name)[0], recv_ts_ms=T0_MS)


def test_prometheus_missing_timestamp() -> None:
    msg = case("prometheus", "ts_missing")[0]
    assert PrometheusAdapter().parse(msg, recv_ts_ms=T0_MS)[0]["ts"] == T0_MS
    with pytest.raises(AdapterError, match="no timestamp"):
        PrometheusAdapter().parse(msg)


def test_prometheus_extra_counter_names() -> None:
    adapter = get_adapter("prometheus", counters=["nginx_connections_handled"])
    for t, v in ((0, "100"), (10, "150")):
        out = adapter.parse(
            orjson.dumps(
                {
                    "labels": {"instance": "lb-1:9113"},
                    "name": "nginx_connections_handled",
                    "timestamp": T0_MS + t * 1000,
                    "value": v,
                }
            )
        )
    assert out[0]["metrics"] == {"nginx_connections_handled_s": 5.0}


# ---------------------------------------------------------------------------------- OTLP


def test_otlp_hostmetrics_and_app_histogram() -> None:
    samples = run(OtlpJsonAdapter(), lines("otlp_messages.jsonl"))
    assert {s["component"] for s in samples} == {"web-17", "web-17/checkout"}
    ts0 = T0_MS + 123  # timeUnixNano …123456768, truncated to ms
    got = {
        k: {t - 123: v for t, v in d.items()}
        for k, d in (
            (m, series(samples, "web-17", m))
            for m in (
                "cpu.util",
                "cpu.user",
                "mem.used_pct",
                "load.1m",
                "net.rx_bytes_s",
                "disk.write_bytes_s",
                "disk.io_util",
                "disk.used_pct",
            )
        )
    }
    assert got["cpu.util"] == pytest.approx({30_000: 0.3, 60_000: 0.3})
    assert got["cpu.user"] == pytest.approx({30_000: 16 / 60, 60_000: 16 / 60})
    # memory: used / (used + free + buffered + cached + slab_reclaimable)
    assert got["mem.used_pct"][0] == pytest.approx(100 * 10_497_531_904 / 17_013_375_872)
    assert got["load.1m"] == pytest.approx({0: 0.42, 30_000: 0.52, 60_000: 0.62})
    assert got["net.rx_bytes_s"] == {30_000: 1_500_000.0, 60_000: 1_500_000.0}
    assert got["disk.write_bytes_s"] == {30_000: 1_024_000.0, 60_000: 1_024_000.0}  # sda, not sda1
    assert got["disk.io_util"] == pytest.approx({30_000: 0.2, 60_000: 0.2})
    assert got["disk.used_pct"][0] == pytest.approx(70.0, abs=1e-6)
    app = merged(samples)[("web-17/checkout", ts0 + 30_000)]
    assert app["latency.p99_ms"] == pytest.approx(200.0)  # 0.1 + 0.15 · 10/15 s
    assert app["app.orders.placed_s.card"] == pytest.approx(3.1)  # DELTA 93 over 30 s
    assert app["jvm.thread.count.true.runnable"] == 58.0
    sample = next(s for s in samples if s["component"] == "web-17/checkout")
    assert sample["tags"]["service.version"] == "2.3.1" and sample["host"] == "web-17"


def test_otlp_awkward() -> None:
    adapter = OtlpJsonAdapter()
    assert adapter.parse(case("otlp", "empty")[0]) == []
    [big] = adapter.parse(case("otlp", "int64_as_string")[0])
    assert big["metrics"] == {"process.memory.usage": 9.223372036854776e18}
    [dbl] = adapter.parse(case("otlp", "double_as_string")[0])
    assert dbl["metrics"] == {"g1.c": 2.5}  # "NaN" and "Infinity" skipped
    [delta] = adapter.parse(case("otlp", "temporality_names")[0])
    assert delta["metrics"] == {"app.requests_s": 5.0}  # 50 over its 10 s interval
    [svc] = adapter.parse(case("otlp", "service_only")[0])
    assert (svc["component"], svc["host"]) == ("pod-7f9c/checkout", "pod-7f9c")
    [junk] = adapter.parse(case("otlp", "junk_inside")[0])
    assert junk["metrics"] == {"g": 1.0}
    [summary] = adapter.parse(case("otlp", "summary")[0])
    assert summary["metrics"] == {"rpc.server.duration.p50": 7.5, "latency.p99_ms": 42.0}
    before = dict(adapter.stats)
    assert adapter.parse(case("otlp", "exponential_histogram")[0]) == []
    assert adapter.stats["unsupported"] == before["unsupported"] + 1
    assert adapter.parse(case("otlp", "bad_buckets")[0]) == []
    assert adapter.stats["skipped_points"] == before["skipped_points"] + 1


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("no_host", "no tag names the component"),
        ("traces_not_metrics", "resourceMetrics"),
        ("ts_missing", "no timestamp"),
    ],
)
def test_otlp_unreadable(name: str, reason: str) -> None:
    with pytest.raises(AdapterError, match=reason):
        OtlpJsonAdapter().parse(case("otlp", name)[0])


# -------------------------------------------------------------------------------- Vector


def test_vector_host_metrics_and_app_metrics() -> None:
    samples = run(VectorAdapter(), lines("vector_messages.jsonl"))
    assert {s["component"] for s in samples} == {"web-17", "web-17/checkout", "web-17/cart"}
    assert series(samples, "web-17", "cpu.util") == pytest.approx({15_000: 0.3, 30_000: 0.3})
    assert series(samples, "web-17", "mem.used_pct")[0] == pytest.approx(
        100 - 100 * 5_832_183_808 / 16_663_375_872
    )
    assert series(samples, "web-17", "load.15m") == {
        0: 0.35,
        15_000: 0.35,
        30_000: 0.35,
    }  # one native_json
    assert series(samples, "web-17", "net.rx_bytes_s") == {15_000: 100_000.0, 30_000: 100_000.0}
    assert series(samples, "web-17", "disk.used_pct") == pytest.approx(
        {0: 70.0, 15_000: 70.1, 30_000: 70.2}
    )
    assert series(samples, "web-17/checkout", "latency.p99_ms") == pytest.approx(
        {15_000: 833.333, 30_000: 833.333}
    )
    assert series(samples, "web-17/checkout", "checkout.orders_s.card") == pytest.approx(
        {0: 3.0, 15_000: 3.1, 30_000: 3.2}
    )
    assert series(samples, "web-17/checkout", "checkout.users.unique") == {
        0: 1.0,
        15_000: 2.0,
        30_000: 3.0,
    }
    assert series(samples, "web-17/cart", "checkout.latency.p99") == {
        0: 0.08,
        15_000: 0.08,
        30_000: 0.08,
    }
    assert series(samples, "web-17/cart", "checkout.latency_count_s")[0] == 10.0


def test_vector_awkward() -> None:
    adapter = VectorAdapter()
    for name in ("incremental_gauge", "sketch"):
        assert adapter.parse(case("vector", name)[0]) == []
    assert adapter.stats["unsupported"] == 2
    [full] = adapter.parse(case("vector", "tags_full_mode")[0])
    assert full["component"] == "web-17" and full["tags"] == {"host": "web-17"}
    [old] = adapter.parse(case("vector", "old_cumulative_buckets")[0])
    assert old["metrics"]["latency.p99_ms"] == pytest.approx(500.0)
    [summary] = adapter.parse(case("vector", "summary")[0])
    assert summary["metrics"] == {"grpc_server_request_duration_seconds.p50": 0.01}
    [late] = adapter.flush()  # a lone series' p99 waits for its round to close
    assert late["metrics"] == {"latency.p99_ms": 250.0} and late["component"] == "web-17/payments"
    assert merged(adapter.parse(case("vector", "array_of_events")[0])) == {
        ("web-17", T0_MS): {"load.1m": 0.5, "load.5m": 0.5}
    }
    assert adapter.parse(case("vector", "ts_missing")[0], recv_ts_ms=7)[0]["ts"] == 7


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("log_event", "not a metric"),
        ("log_line", "not a metric"),
        ("bogus_kind", "kind"),
        ("no_value", "no value"),
        ("ts_missing", "no timestamp"),
    ],
)
def test_vector_unreadable(name: str, reason: str) -> None:
    with pytest.raises(AdapterError, match=reason):
        VectorAdapter().parse(case("vector", name)[0])


# ------------------------------------------------------------------------ component rule


def test_component_rule_aliases_and_fallbacks() -> None:
    rule = ComponentRule()
    assert rule.resolve({"instance": "web-17:9100", "job": "node"}) == ("web-17", "web-17")
    assert rule.resolve({"instance": "web-17:8080", "job": "checkout"}) == (
        "web-17/checkout",
        "web-17",
    )
    assert rule.resolve({"hostname": "db-3", "container_name": "postgres"}) == (
        "db-3/postgres",
        "db-3",
    )
    assert rule.resolve({"host.name": "web-17", "service.name": "api"}) == ("web-17/api", "web-17")
    assert rule.resolve({"host": "a", "hostname": "b"}) == ("a", "a")  # alias order
    assert rule.resolve({"job": "api"}) is None
    custom = ComponentRule(template="{region}/{host}", fallbacks=["{host}"])
    assert custom.resolve({"region": "eu-1", "host": "web-1"}) == ("eu-1/web-1", "web-1")
    assert custom.resolve({"host": "web-1"}) == ("web-1", "web-1")
    by_tag = ComponentRule(template="{k8s.pod.name}", fallbacks=())
    assert by_tag.resolve({"k8s.pod.name": "api-7f9c"}) == ("api-7f9c", "api-7f9c")
    with pytest.raises(ValueError, match="placeholder"):
        ComponentRule(template="web")


def test_strip_port() -> None:
    assert strip_port("web-17:9100") == "web-17"
    assert strip_port("10.0.3.7:9102") == "10.0.3.7"
    assert strip_port("[2001:db8::1]:9100") == "2001:db8::1"
    assert strip_port("2001:db8::1") == "2001:db8::1"
    assert strip_port("web-17") == "web-17"


def test_rule_passed_to_registry() -> None:
    rule = ComponentRule(template="{host}", fallbacks=())
    adapter = get_adapter("prometheus", rule)
    [s] = adapter.parse(case("prometheus", "exponent")[0].replace(b'"job":"node"', b'"job":"api"'))
    assert s["component"] == "web-17"


# ---------------------------------------------------------------------- values and names


def test_values_and_timestamps() -> None:
    assert to_number("1.5") == 1.5 and to_number("9876543210") == 9_876_543_210
    assert to_number(True) == 1 and to_number(False) == 0
    for bad in ("NaN", "+Inf", "-Inf", "inf", "", "abc", None, [1], {"a": 1}, float("nan")):
        assert to_number(bad) is None
    assert to_ts_ms(1714564800, None, "x") == T0_MS
    assert to_ts_ms("1714564800000", None, "x") == T0_MS
    assert to_ts_ms(1714564800, None, "x", "ms") == 1_714_564_800
    assert to_ts_ms("2024-05-01T12:00:00.123456789Z", None, "x") == T0_MS + 123
    assert to_ts_ms("2024-05-01T12:00:00", None, "x") == T0_MS  # no zone: UTC
    assert to_number("²") is None and strip_port("web-17:²") == "web-17:²"  # unicode digits
    for bad in (-5, True, "soon", [1], float("inf"), 1e30, "²", "0001-01-01T00:00:00+01:00"):
        with pytest.raises(AdapterError, match="timestamp"):
            to_ts_ms(bad, None, "x")


def test_names() -> None:
    assert norm_name("Disk IO/Busy %") == "disk_io_busy"
    assert norm_name("system.cpu.time") == "system.cpu.time"
    assert quantile_name("0.99") == "p99" and quantile_name(0.5) == "p50"
    assert quantile_name(0.999) == "p99_9" and quantile_name("x") is None


def test_bucket_quantile_matches_prometheus() -> None:
    buckets = [(0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (math.inf, 100.0)]
    assert bucket_quantile(0.5, buckets) == pytest.approx(0.1)
    assert bucket_quantile(0.9, buckets) == pytest.approx(0.5)
    assert bucket_quantile(0.95, buckets) == pytest.approx(0.75)
    assert bucket_quantile(0.99, [(0.1, 0.0), (math.inf, 10.0)]) == 0.1  # in +Inf: last bound
    assert bucket_quantile(0.99, [(0.1, 0.0), (math.inf, 0.0)]) is None  # nothing observed
    assert bucket_quantile(0.99, [(0.1, 1.0)]) is None  # no +Inf bucket


# ------------------------------------------------------------------- state and bounds


def test_counter_state_first_reset_stale_and_bound() -> None:
    c = CounterState(max_series=2)
    k = ("web-17", "m", "")
    assert c.rate(k, 1000, 10) == (None, "first")
    assert c.rate(k, 3000, 30) == (10.0, "ok")
    assert c.rate(k, 3000, 40) == (None, "stale")  # same ts: no rate, state kept
    assert c.rate(k, 5000, 4) == (2.0, "reset")  # from 0: 4 in 2 s
    c.rate(("b", "m", ""), 1, 1)
    c.rate(("c", "m", ""), 1, 1)
    assert len(c) == 2 and c.rate(k, 7000, 10)[1] == "first"  # evicted, least recently seen


def test_joiner_learns_parts_and_counts_late_ones() -> None:
    j = Joiner(tolerance_ms=500, max_keys=10)
    key, spec, sink = ("h", "net:rx"), ("sum", "net.rx_bytes_s"), ("h", "h", {})
    assert j.add(key, 0, "eth0", 1.0, spec, sink) == []
    assert j.add(key, 0, "eth1", 2.0, spec, sink) == []
    # a later round closes the first (parts learnt); it completes at once when all are in
    [(_, ts, metrics, _, _)] = j.add(key, 10_000, "eth0", 3.0, spec, sink)
    assert (ts, metrics) == (0, {"net.rx_bytes_s": 3.0})
    [(_, ts, metrics, _, _)] = j.add(key, 10_000, "eth1", 4.0, spec, sink)
    assert (ts, metrics) == (10_000, {"net.rx_bytes_s": 7.0})
    assert j.add(key, 10_100, "eth2", 5.0, spec, sink) == [] and j.late == 1
    assert j.add(key, 20_000, "eth0", 1.0, spec, sink) == []  # now waits for eth2 too


def test_state_round_trips_through_json_and_pickle() -> None:
    msgs = lines("prometheus_messages.jsonl")
    whole = PrometheusAdapter()
    expected = run(whole, msgs)
    first = PrometheusAdapter()
    head = [s for m in msgs[:100] for s in first.parse(m)]
    resumed = PrometheusAdapter()
    resumed.load_state(orjson.loads(orjson.dumps(first.state())))
    tail = run(resumed, msgs[100:])
    assert_same(merged(head + tail), merged(expected))
    clone = pickle.loads(pickle.dumps(first))
    assert merged(run(clone, msgs[100:])) == merged(tail)
    with pytest.raises(ValueError, match="telegraf"):
        TelegrafAdapter().load_state(first.state())


def test_state_is_bounded() -> None:
    adapter = PrometheusAdapter(max_series=50)
    for i in range(500):
        adapter.parse(
            orjson.dumps(
                {
                    "labels": {"instance": f"h{i}:1"},
                    "name": "x_total",
                    "timestamp": T0_MS,
                    "value": "1",
                }
            )
        )
    assert len(adapter.counters) == 50


# ---------------------------------------------------------------------------- registry


def test_registry() -> None:
    assert isinstance(get_adapter("telegraf"), TelegrafAdapter)
    assert isinstance(get_adapter("prometheus"), PrometheusAdapter)
    assert isinstance(get_adapter("otlp-json"), OtlpJsonAdapter)
    assert isinstance(get_adapter("OTLP_JSON"), OtlpJsonAdapter)
    assert isinstance(get_adapter("vector"), VectorAdapter)
    with pytest.raises(ValueError, match="known: telegraf"):
        get_adapter("statsd")


def test_adapter_error_pickles_and_names_format() -> None:
    err = AdapterError("vector", "bad thing")
    again = pickle.loads(pickle.dumps(err))
    assert (again.fmt, again.reason, str(again)) == (
        "vector",
        "bad thing",
        "vector adapter: bad thing",
    )
    assert isinstance(err, ValueError)


def test_docstring_examples_run() -> None:
    for module in (adapters_pkg, common, component):
        assert doctest.testmod(module).failed == 0


def test_adapters_import_no_kafka() -> None:
    for path in (ROOT / "streams" / "adapters").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] not in {
                    "confluent_kafka",
                    "faust",
                    "aiokafka",
                    "kafka",
                }, path


# ------------------------------------------------------------------------------ fuzzing

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["NaN", "+Inf", "1.5", "18446744073709551615", "", "-1"]),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def shaped(fmt: str) -> st.SearchStrategy[Any]:
    """JSON with each format's outline and arbitrary leaves."""
    v = json_value
    tags = st.one_of(
        st.dictionaries(
            st.sampled_from(["host", "instance", "cpu", "le", "quantile", "device", "mode"]),
            st.one_of(st.text(max_size=6), v),
            max_size=4,
        ),
        v,
    )
    if fmt == "telegraf":
        metric = st.fixed_dictionaries(
            {
                "name": st.one_of(st.sampled_from(["cpu", "net", "diskio", "disk"]), v),
                "fields": st.one_of(
                    st.dictionaries(
                        st.sampled_from(
                            ["usage_idle", "bytes_recv", "read_bytes", "used_percent", "x"]
                        ),
                        v,
                        max_size=4,
                    ),
                    v,
                ),
                "tags": tags,
                "timestamp": st.one_of(st.integers(0, 2**63), v),
            }
        )
        return st.one_of(metric, st.fixed_dictionaries({"metrics": st.lists(metric, max_size=3)}))
    if fmt == "prometheus":
        return st.fixed_dictionaries(
            {
                "name": st.one_of(
                    st.sampled_from(
                        [
                            "node_cpu_seconds_total",
                            "x_bucket",
                            "node_load1",
                            "rpc_request_duration_seconds",
                        ]
                    ),
                    v,
                ),
                "labels": tags,
                "timestamp": st.one_of(st.just("2024-05-01T12:00:00Z"), v),
                "value": v,
            }
        )
    if fmt == "otlp-json":
        attrs = st.lists(
            st.fixed_dictionaries(
                {
                    "key": st.one_of(st.sampled_from(["host.name", "cpu", "state", "device"]), v),
                    "value": st.one_of(st.fixed_dictionaries({"stringValue": v}), v),
                }
            ),
            max_size=3,
        )
        dp = st.fixed_dictionaries(
            {
                "attributes": attrs,
                "timeUnixNano": st.one_of(st.just("1714564800000000000"), v),
                "asDouble": v,
                "asInt": v,
                "count": v,
                "bucketCounts": st.lists(v, max_size=3),
                "explicitBounds": st.lists(v, max_size=2),
                "quantileValues": st.lists(v, max_size=2),
            }
        )
        data = st.fixed_dictionaries(
            {"dataPoints": st.lists(dp, max_size=2), "aggregationTemporality": v, "isMonotonic": v}
        )
        names = st.one_of(
            st.sampled_from(["system.cpu.time", "http.server.request.duration", "g"]), v
        )
        metric = st.sampled_from(["gauge", "sum", "histogram", "summary"]).flatmap(
            lambda shape: st.fixed_dictionaries({"name": names, "unit": v, shape: data})
        )
        return st.fixed_dictionaries(
            {
                "resourceMetrics": st.lists(
                    st.fixed_dictionaries(
                        {
                            "resource": st.fixed_dictionaries({"attributes": attrs}),
                            "scopeMetrics": st.lists(
                                st.fixed_dictionaries({"metrics": st.lists(metric, max_size=2)}),
                                max_size=2,
                            ),
                        }
                    ),
                    max_size=2,
                )
            }
        )
    return st.fixed_dictionaries(
        {
            "name": st.one_of(
                st.sampled_from(["cpu_seconds_total", "load1", "http_request_duration_seconds"]), v
            ),
            "tags": tags,
            "timestamp": v,
            "kind": st.one_of(st.sampled_from(["absolute", "incremental"]), v),
            "counter": st.one_of(st.fixed_dictionaries({"value": v}), v),
            "aggregated_histogram": st.fixed_dictionaries(
                {"buckets": st.lists(v, max_size=3), "count": v}
            ),
            "distribution": st.fixed_dictionaries({"samples": st.lists(v, max_size=3)}),
        }
    )


def only_adapter_errors(fmt: str, payloads: list[bytes], recv: int | None) -> None:
    adapter = get_adapter(fmt)
    for payload in payloads:
        # an AdapterError is the one allowed way to refuse a payload; anything else fails
        with contextlib.suppress(AdapterError):
            assert_contract(adapter.parse(payload, recv))
    assert_contract(adapter.flush())
    orjson.dumps(adapter.state())


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(
    fmt=st.sampled_from(FORMATS),
    payload=st.binary(max_size=200),
    recv=st.one_of(st.none(), st.integers(0, 2**40)),
)
def test_fuzz_bytes_raise_only_adapter_error(fmt: str, payload: bytes, recv: int | None) -> None:
    only_adapter_errors(fmt, [payload], recv)


@FUZZ
@given(
    fmt=st.sampled_from(FORMATS), doc=json_value, recv=st.one_of(st.none(), st.integers(0, 2**40))
)
def test_fuzz_any_json_raises_only_adapter_error(fmt: str, doc: Any, recv: int | None) -> None:
    only_adapter_errors(fmt, [orjson.dumps(doc)], recv)


@FUZZ
@given(data=st.data(), fmt=st.sampled_from(FORMATS))
def test_fuzz_format_shaped_junk(data: st.DataObject, fmt: str) -> None:
    docs = data.draw(st.lists(shaped(fmt), min_size=1, max_size=4))
    only_adapter_errors(
        fmt, [orjson.dumps(d) for d in docs], data.draw(st.one_of(st.none(), st.just(T0_MS)))
    )


@FUZZ
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 60_000), st.integers(0, 2**62)), min_size=2, max_size=30
    )
)
def test_counter_rates_never_negative_and_resets_count_from_zero(
    steps: list[tuple[int, int]],
) -> None:
    c = CounterState()
    ts, prev = 0, None
    for dt, value in steps:
        ts += dt
        rate, status = c.rate(("c", "m", ""), ts, value)
        if prev is None:
            assert status == "first"
        else:
            assert rate is not None and rate >= 0
            expected = value if value < prev else value - prev
            assert rate == pytest.approx(expected * 1000 / dt)
            assert status == ("reset" if value < prev else "ok")
        prev = value


JUNK_LEAVES = [
    None,
    True,
    "NaN",
    "x",
    -1,
    0,
    2**63,
    1e308,
    [],
    {},
    "18446744073709551615",
    "+Inf",
    "2024-13-45T99:99:99Z",
    1.5,
]


def mutate(obj: Any, rng: random.Random) -> Any:
    """A real message with some keys dropped and some values swapped for junk."""
    if isinstance(obj, dict):
        return {
            k: rng.choice(JUNK_LEAVES) if rng.random() < 0.05 else mutate(v, rng)
            for k, v in obj.items()
            if rng.random() > 0.02
        }
    if isinstance(obj, list):
        return [mutate(v, rng) for v in obj if rng.random() > 0.02]
    return rng.choice(JUNK_LEAVES) if rng.random() < 0.1 else obj


@FUZZ
@given(fmt=st.sampled_from(FORMATS), seed=st.integers(0, 2**32))
def test_fuzz_mutated_real_messages(fmt: str, seed: int) -> None:
    rng = random.Random(seed)
    real = lines(REALISTIC[fmt])
    msgs = [
        orjson.dumps(mutate(orjson.loads(m), rng)) for m in rng.sample(real, min(len(real), 30))
    ]
    only_adapter_errors(fmt, msgs, rng.choice([None, T0_MS]))


def test_two_sources_of_one_component_keep_their_own_counters() -> None:
    """Two replicas behind one component id (web-17/checkout on two ports) never mix."""
    adapter = PrometheusAdapter()
    rates = []
    for t, (a, b) in enumerate([(100, 900_000), (250, 900_600), (400, 901_200)]):
        for port, v in ((8080, a), (8081, b)):
            msg = {
                "labels": {
                    "__name__": "http_requests_total",
                    "instance": f"web-17:{port}",
                    "job": "checkout",
                },
                "name": "http_requests_total",
                "timestamp": T0_MS + 15_000 * t,
                "value": str(v),
            }
            rates += [s["metrics"]["http_requests_s"] for s in adapter.parse(orjson.dumps(msg))]
    assert rates == [10.0, 40.0, 10.0, 40.0]
    assert adapter.stats["counter_reset"] == 0
