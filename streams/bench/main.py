"""``make bench``: the measurements behind the figures in README and docs/benchmarks.md.

Benchmarks, not tests: the machine is shared and noisy, so each figure is the median of
several runs, and comparisons are ratios measured side by side in one run.

    python -m streams.bench                 # everything
    python -m streams.bench kafka sim       # some sections
    python -m streams.bench kafka worker --broker kafka   # on Apache Kafka (bench/brokers.py)
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import NewTopic

from schemas.codec import Codec
from streams.settings import Settings
from streams.topics import admin_client, consumer_config, producer_config

BASE_MS = 1_767_571_200_000


def median_of(runs: int, fn: Callable[[], float]) -> tuple[float, list[float]]:
    values = [fn() for _ in range(runs)]
    return statistics.median(values), values


def _topic(settings: Settings, partitions: int) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    admin = admin_client(settings)  # keep a reference until the future resolves
    rf = settings.replication_factor
    admin.create_topics([NewTopic(name, partitions, rf)])[name].result()
    return name


def _sample_bytes(codec: Codec, i: int, points: int) -> bytes:
    metrics = {"cpu.util": 0.5, "mem.used_pct": 40.0, "disk.io_util": 0.2, "net.util": 0.1,
               "latency.p99_ms": 120.0, "load.1m": 1.5}
    if points == 1:
        rec = {"component": f"web-{i % 50}", "host": f"web-{i % 50}", "ts": BASE_MS + i,
               "metrics": metrics, "tags": {}}
        return codec.encode("MetricSample", rec)
    batch = {"component": f"web-{i % 50}", "host": f"web-{i % 50}", "tags": {},
             "points": [{"ts": BASE_MS + i * points + k, "metrics": metrics}
                        for k in range(points)]}
    return codec.encode("MetricBatch", batch)


def kafka_rates(settings: Settings, n: int, partitions: int, points: int) -> dict[str, float]:
    """Produce ``n`` messages (``points`` samples each) then consume them all back."""
    codec = Codec()
    topic = _topic(settings, partitions)
    values = [_sample_bytes(codec, i, points) for i in range(min(n, 1000))]
    producer = Producer(producer_config(settings, {"linger.ms": 20, "batch.size": 1_000_000}))
    t0 = time.perf_counter()
    for i in range(n):
        v = values[i % len(values)]
        while True:
            try:
                producer.produce(topic, key=f"web-{i % 50}".encode(), value=v)
                break
            except BufferError:
                producer.poll(0.01)
    producer.flush(120)
    produce_s = time.perf_counter() - t0
    consumer = Consumer(consumer_config(settings, f"bench-{uuid.uuid4().hex[:6]}"))
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got = 0
    t0 = time.perf_counter()
    while got < n:
        msgs = consumer.consume(1000, 5.0)
        if not msgs:
            break
        got += sum(1 for m in msgs if not m.error())
    consume_s = time.perf_counter() - t0
    consumer.close()
    return {
        "produce_msgs_s": n / produce_s,
        "consume_msgs_s": got / consume_s,
        "consume_samples_s": got * points / consume_s,
        "bytes_per_msg": float(len(values[0])),
    }


def section_kafka(runs: int) -> dict[str, Any]:
    from streams.bench.brokers import bench_broker

    out: dict[str, Any] = {}
    with bench_broker() as broker:
        settings = Settings.load(env={}, bootstrap_servers=broker.bootstrap_servers,
                                 replication_factor=broker.replication_factor)
        out["broker"] = broker.kind
        for partitions, points, n in ((1, 1, 200_000), (3, 1, 200_000), (3, 30, 20_000)):
            key = f"p{partitions}_x{points}"
            per_run = [kafka_rates(settings, n, partitions, points) for _ in range(runs)]
            out[key] = {
                k: statistics.median(r[k] for r in per_run) for k in per_run[0]
            } | {"runs": runs, "messages": n, "partitions": partitions, "samples_per_msg": points}
    return out


def section_sim(runs: int) -> dict[str, Any]:
    from streams.sim.simulator import bench

    med, values = median_of(runs, lambda: bench(2.0))
    return {"component_hours_per_s": med, "runs": values}


def section_ingest(runs: int) -> dict[str, Any]:
    from streams.bench.ingest import bench_ingest

    out: dict[str, Any] = {}
    for fmt in ("telegraf", "prometheus", "otlp-json", "vector"):
        per_run = [bench_ingest(fmt, 5_000 if fmt == "otlp-json" else 20_000)
                   for _ in range(runs)]
        out[fmt] = {k: statistics.median(r[k] for r in per_run) for k in per_run[0]}
    return out


def _optional(module: str, fn: str, runs: int) -> dict[str, Any]:
    """Benchmarks owned by other modules: ``module.fn(seconds)`` → a number or a dict."""
    try:
        bench_fn = getattr(importlib.import_module(module), fn)
    except (ImportError, AttributeError) as exc:
        return {"skipped": f"{module}.{fn} not available: {exc}"}
    results = [bench_fn(3.0) for _ in range(runs)]
    if isinstance(results[0], dict):
        return {k: statistics.median(r[k] for r in results) for k in results[0]} | {"runs": runs}
    return {"value": statistics.median(results), "runs": results}


SECTIONS: dict[str, Callable[[int], dict[str, Any]]] = {
    "kafka": section_kafka,
    "sim": section_sim,
    "shipper": lambda runs: _optional("streams.bench.shipper", "bench_shipper", runs),
    "ingest": lambda runs: section_ingest(runs),
    "replay": lambda runs: _optional("streams.bench.replay", "bench_replay", runs),
    "worker": lambda runs: _optional("streams.bench.throughput", "bench_worker", runs),
    "scaleout": lambda runs: _optional("streams.bench.throughput", "bench_scaleout", runs),
    "memory": lambda runs: _optional("streams.bench.memory", "bench_memory", runs),
    "actuation": lambda runs: _optional("streams.bench.actuation", "bench_actuation", runs),
    "api": lambda runs: _optional("streams.bench.api", "bench_api", runs),
    "stop": lambda runs: _optional("streams.bench.stop", "bench_stop", runs),
    "anomaly": lambda runs: _optional("streams.bench.anomaly", "bench_anomaly", runs),
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.bench")
    p.add_argument("sections", nargs="*", choices=[*SECTIONS, []], default=[])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", default="out/bench.json")
    p.add_argument("--json", action="store_true",
                   help="print, as the last line, one JSON object: with the worker section, "
                        "its medians at the top level (worker_samples_per_s, "
                        "naive_samples_per_s, raw_consume_samples_per_s, "
                        "state_bytes_per_component); else every section's results")
    p.add_argument("--broker", choices=("tansu", "kafka"), default="tansu",
                   help="the broker of the kafka, worker and scale-out sections: the embedded "
                        "Tansu, or a 3-node Apache Kafka 4.x cluster (RF 3, tests/kafka_harness)")
    args = p.parse_args(argv)
    from streams.bench import brokers

    brokers.KIND = args.broker
    chosen = args.sections or list(SECTIONS)
    results: dict[str, Any] = {"machine": _machine(), "broker": args.broker}
    for name in chosen:
        t0 = time.perf_counter()
        results[name] = SECTIONS[name](args.runs)
        print(f"== {name} ({time.perf_counter() - t0:.0f} s)")
        print(json.dumps(results[name], indent=2, default=str))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, default=str))
    print(f"written {args.out}")
    if args.json:
        print(json.dumps(last_line(results), default=str, sort_keys=True))
    return 0


def last_line(results: dict[str, Any]) -> dict[str, Any]:
    """The ``--json`` object: the worker section's medians flat at the top level (the issue
    #14 contract), the other sections under their names.

    >>> last_line({"machine": {}, "worker": {"worker_samples_per_s": 1.0, "runs": 3}})
    {'worker_samples_per_s': 1.0, 'runs': 3}
    >>> last_line({"sim": {"x": 1}})
    {'sim': {'x': 1}}
    """
    rest = {k: v for k, v in results.items() if k not in ("machine", "worker")}
    return {**results.get("worker", {}), **rest}


def _machine() -> dict[str, Any]:
    import os
    import platform

    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}


if __name__ == "__main__":
    sys.exit(main())
