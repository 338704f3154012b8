"""Throughput of one worker process, side by side with a naive agent and the raw consume rate.

:func:`bench_worker` starts an embedded Tansu broker, pre-produces one realistic data set (the
simulated ``fleet``, 12 metrics a sample, 10 s apart) twice — as forewarn's ``MetricBatch``
messages (30 samples each, as the publisher and shipper send them) and as one ``MetricSample``
per message — and measures, one after the other on the same broker:

* ``ours``: ``forewarn worker`` (a child process) reading the batches; ``ours_permsg`` the
  same with ``worker_batch=1`` (the per-message path), on a copy of the data under its own
  topics;
* ``naive``: a Faust agent (``python -m streams.bench.throughput naive``, a child process) that
  reads one sample per message, runs River's ``HalfSpaceTrees()`` (defaults, one per component)
  ``score_one`` / ``learn_one`` on it and sends one result per sample;
* ``raw``: confluent-kafka consuming the batches by assignment, doing nothing with them;
* ``inproc`` (``inproc_permsg``): the worker's handler and checkpointing over the same batches
  in this process, no Kafka (the CPU bound of ``ours``; ``checkpoint_share``: checkpoints').

A worker's rate is read from its ``forewarn_worker_samples_total``, polled every 50 ms: samples
processed from the first poll that shows progress to the one that shows all, over the time
between (start-up and group join excluded); ``*_lag0_s``: from first progress until the group
has committed every message. ``make bench BENCH_ARGS=worker`` gives the median of 3 runs.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import NewTopic

from schemas.codec import Codec
from streams.bench.brokers import bench_broker
from streams.bench.inproc import inproc, inproc_sides
from streams.bench.workerproc import (
    WORKER_ARGV,
    WorkerChild,
    committed_counter,
    measure,
    worker_children,
    worker_env,
)
from streams.runtime.broker import free_port
from streams.settings import Settings
from streams.sim.examples import COMPONENTS
from streams.sim.examples import fleet_samples as samples
from streams.topics import admin_client, consumer_config, ensure_topics, producer_config

POINTS = 30  # samples per MetricBatch


def encode_batches(codec: Codec, data: list[dict[str, Any]]) -> list[tuple[bytes, bytes, int]]:
    """(key, value, samples) per MetricBatch message."""
    from streams.sim.simulator import to_batches

    return [(b["component"].encode(), codec.encode("MetricBatch", b), len(b["points"]))
            for b in to_batches(data, POINTS)]


def _produce(settings: Settings, topic: str, msgs: list[tuple[bytes, bytes]]) -> None:
    p = Producer(producer_config(settings, {"linger.ms": 20, "batch.size": 1_000_000}))
    for key, value in msgs:
        while True:
            try:
                p.produce(topic, key=key, value=value)
                break
            except BufferError:
                p.poll(0.01)
    if p.flush(120):
        raise RuntimeError(f"could not produce to {topic}")


def raw_consume(settings: Settings, topic: str, n_msgs: int, min_s: float = 1.0
                ) -> tuple[float, float]:
    """Messages/s of confluent-kafka reading all ``n_msgs`` of ``topic`` by assignment: rounds
    from offset 0, each timed from ``assign`` to its last message, until ``min_s`` of reading
    (the first round, which also connects, is not counted); and per CPU second (all threads)."""
    # no fetch.wait.max.ms pause at the end of the data: the rate while data is there
    c = Consumer(consumer_config(settings, f"raw-{uuid.uuid4().hex[:6]}",
                                 {"fetch.wait.max.ms": 10}))
    total_n, total_s, cpu_s, rounds = 0, 0.0, 0.0, 0
    try:
        while total_s < min_s or rounds < 2:
            t0, c0 = time.perf_counter(), time.process_time()
            c.assign([TopicPartition(topic, p, 0) for p in range(settings.partitions)])
            got = 0
            while got < n_msgs:
                msgs = c.consume(min(1000, n_msgs - got), 10.0)
                if not msgs:
                    raise RuntimeError(f"raw consume stalled at {got}/{n_msgs} messages")
                got += sum(1 for m in msgs if m.error() is None)
            c.unassign()
            if rounds:
                total_s += time.perf_counter() - t0
                cpu_s += time.process_time() - c0
                total_n += got
            rounds += 1
    finally:
        c.close()
    return total_n / total_s, total_n / cpu_s


def bench_worker(seconds: float = 3.0, polls: int = 0) -> dict[str, float]:
    """One side-by-side run; ~``seconds`` of our worker's work, polls of ``polls`` (0: default)."""
    n = max(1, round(seconds * 4000 / (COMPONENTS * POINTS))) * COMPONENTS * POINTS
    data = samples(n)
    codec = Codec()
    batches = encode_batches(codec, data)
    singles = [(s["component"].encode(), codec.encode("MetricSample", s)) for s in data]
    out: dict[str, float] = {"samples": float(n), "components": float(COMPONENTS),
                             "samples_per_msg": float(POINTS)}
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp, bench_broker() as broker:
        s = Settings.load(env={}, bootstrap_servers=broker.bootstrap_servers,
                          replication_factor=broker.replication_factor,
                          topic_prefix=f"tp{tag}.", worker_group=f"tp-{tag}", data_dir=tmp)
        ensure_topics(s)
        naive_in, naive_out = s.topic("naive-in"), s.topic("naive-out")
        admin = admin_client(s)
        for f in admin.create_topics([NewTopic(t, s.partitions, s.replication_factor)
                                      for t in (naive_in, naive_out)]).values():
            f.result()
        _produce(s, s.topic("metrics"), [(k, v) for k, v, _ in batches])
        _produce(s, naive_in, singles)
        wall, cpu = raw_consume(s, s.topic("metrics"), len(batches))
        out["raw_samples_s"], out["raw_samples_cpu_s"] = POINTS * wall, POINTS * cpu
        out["raw_single_samples_s"] = raw_consume(s, naive_in, n)[0]
        out.update(inproc(s, batches))
        out |= {f"inproc_permsg_{k[7:]}": v for k, v in inproc(s, batches, 1).items()
                if k.startswith("inproc_samples")}
        # the per-message path on topics of its own: on the same ones it would restore the
        # first worker's checkpoints, which cover every message
        s1 = replace(s, topic_prefix=f"tq{tag}.")
        ensure_topics(s1)
        _produce(s1, s1.topic("metrics"), [(k, v) for k, v, _ in batches])
        for name, batch, st in (("ours", polls or s.worker_batch, s), ("ours_permsg", 1, s1)):
            port = free_port()
            env = worker_env(st, tmp, port, FOREWARN_WORKER_BATCH=str(batch))
            ours = WorkerChild(WORKER_ARGV, env, port, Path(tmp) / f"{name}.log")
            try:
                got = measure(ours, n, committed_counter(st, st.worker_group,
                                                         st.topic("metrics")),
                              len(batches), 60 + 20 * seconds)
            finally:
                ours.stop()
            out |= {f"{name}_{k}": v for k, v in got.items()}

        port = free_port()
        group = f"naive-{tag}"
        naive = WorkerChild([sys.executable, "-m", "streams.bench.throughput", "naive",
                        "--bootstrap-servers", s.bootstrap_servers, "--group", group,
                        "--source", naive_in, "--sink", naive_out, "--metrics-port", str(port),
                        "--data-dir", tmp], {}, port, Path(tmp) / "naive.log")
        try:
            got = measure(naive, n, committed_counter(s, group, naive_in), n, 60 + 60 * seconds)
        finally:
            naive.stop()
        out |= {f"naive_{k}": v for k, v in got.items()}
    out |= ratios(out)
    out |= contract(out)
    return out


def ratios(out: dict[str, float]) -> dict[str, float]:
    """Ours over naive, raw and in-process, per wall second and per CPU second (what the code
    costs, whatever else the machine runs)."""
    got = {}
    for other in ("naive", "raw", "inproc", "ours_permsg", "inproc_permsg"):
        if f"{other}_samples_s" not in out:  # older runs, scale-out
            continue
        got[f"ours_over_{other}"] = out["ours_samples_s"] / out[f"{other}_samples_s"]
    for other in ("naive", "raw", "inproc", "ours_permsg", "inproc_permsg"):
        if f"{other}_samples_cpu_s" in out:
            got[f"ours_over_{other}_cpu"] = (out["ours_samples_cpu_s"]
                                             / out[f"{other}_samples_cpu_s"])
    return got


def contract(out: dict[str, float]) -> dict[str, float]:
    """The issue #14 output contract's names for one run's figures (``--json``)."""
    return {"worker_samples_per_s": out["ours_samples_s"],
            "naive_samples_per_s": out["naive_samples_s"],
            "raw_consume_samples_per_s": out["raw_samples_s"],
            "state_bytes_per_component": out["state_bytes_median"]}


def bench_scaleout(seconds: float = 3.0, counts: tuple[int, ...] = (1, 2),
                   partitions: int = 4) -> dict[str, float]:
    """1 and 2 ``forewarn worker`` processes in one group, side by side on one broker and one
    data set (the ``fleet`` batches, ``partitions`` partitions): the group's samples/s from the
    summed counters, and per CPU-second of all its workers. Each count reads its own copy of
    the data under its own topic prefix, so no checkpoint of an earlier count is restored."""
    n = max(1, round(seconds * 4000 / (COMPONENTS * POINTS))) * COMPONENTS * POINTS
    codec = Codec()
    batches = encode_batches(codec, samples(n))
    out: dict[str, float] = {"samples": float(n), "partitions": float(partitions)}
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp, bench_broker() as broker:
        for count in counts:
            s = Settings.load(env={}, bootstrap_servers=broker.bootstrap_servers,
                              replication_factor=broker.replication_factor,
                              topic_prefix=f"so{tag}{count}.", worker_group=f"so-{tag}-{count}",
                              data_dir=tmp, partitions=partitions)
            ensure_topics(s)
            _produce(s, s.topic("metrics"), [(k, v) for k, v, _ in batches])
            children = worker_children(count, s, tmp, f"w{count}")
            try:
                got = measure(children, n, committed_counter(s, s.worker_group, s.topic("metrics")),
                              len(batches), 60 + 20 * seconds)
            finally:
                for c in children:
                    c.stop()
            out |= {f"workers{count}_{k}": v for k, v in got.items()}
    for count in counts[1:]:
        out[f"workers{count}_over_1"] = out[f"workers{count}_samples_s"] / out["workers1_samples_s"]
        out[f"workers{count}_over_1_cpu"] = (out[f"workers{count}_samples_cpu_s"]
                                             / out["workers1_samples_cpu_s"])
    return out


def run_naive(bootstrap: str, group: str, source: str, sink: str, port: int,
              data_dir: str) -> None:
    """The naive baseline: one sample per message, River HalfSpaceTrees, one send per sample."""
    import faust
    import orjson
    from prometheus_client import CollectorRegistry, Counter, start_http_server
    from river.anomaly import HalfSpaceTrees

    app = faust.App(group, broker=f"kafka://{bootstrap}", store="memory://",
                    key_serializer="raw", value_serializer="raw",
                    consumer_auto_offset_reset="earliest", broker_session_timeout=6.0,
                    broker_heartbeat_interval=1.0, broker_commit_every=1000,
                    broker_commit_interval=1.0, producer_acks=-1, web_enabled=False,
                    datadir=str(Path(data_dir) / "naive"))
    registry = CollectorRegistry()
    counter = Counter("forewarn_worker_samples", "samples scored", registry=registry)
    start_http_server(port, addr="127.0.0.1", registry=registry)
    codec = Codec()
    models: dict[str, HalfSpaceTrees] = {}
    src = app.topic(source, key_type=bytes, value_type=bytes)
    dst = app.topic(sink, key_type=bytes, value_type=bytes)

    @app.agent(src, concurrency=1)
    async def naive(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            _, rec = codec.decode(event.message.value, ("MetricSample",))
            model = models.get(rec["component"])
            if model is None:
                model = models[rec["component"]] = HalfSpaceTrees()
            score = model.score_one(rec["metrics"])
            model.learn_one(rec["metrics"])
            await dst.send(key=event.message.key, value=orjson.dumps(
                {"component": rec["component"], "ts": rec["ts"], "score": score}))
            counter.inc()

    worker = faust.Worker(app, loglevel="warning", quiet=True)
    worker.spinner = None  # as forewarn's worker: the spinner would turn on DEBUG logging
    worker.execute_from_commandline()


def profile(n: int = 12_000, top: int = 25, sampler: str = "cprofile", poll: int = 0) -> None:
    """cProfile of the in-process work (``inproc``), with the time per module; or, with
    ``sampler="pyinstrument"`` (in the dev extra), its sampling
    call tree every 0.5 ms, which distorts small calls less."""
    import streams.runtime.checkpoint  # noqa: F401 - imported before the profile starts
    import streams.runtime.worker  # noqa: F401

    settings = Settings.load(env={})
    batches = encode_batches(Codec(), samples(n))
    if sampler == "pyinstrument":
        from pyinstrument import Profiler

        sampling = Profiler(interval=0.0005)
        sampling.start()
        result = inproc(settings, batches, poll)
        sampling.stop()
        print(result)
        print(sampling.output_text(unicode=False, color=False))
        return
    prof = cProfile.Profile()
    prof.enable()
    result = inproc(settings, batches, poll)
    prof.disable()
    stats = pstats.Stats(prof)
    by_file: dict[str, float] = defaultdict(float)
    # Stats.stats (the raw table print_stats reads) is real but not in typeshed's pstats stub
    for (path, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_file[path.split("site-packages/")[-1].split("/work/main/")[-1]] += tottime
    total = sum(by_file.values())
    print(f"{result}\nself time by module ({total:.1f} s under cProfile):")
    for path, t in sorted(by_file.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {100 * t / total:5.1f} %  {path}")
    stats.sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.bench.throughput")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench", help="one side-by-side run, printed")
    b.add_argument("--seconds", type=float, default=3.0)
    b.add_argument("--worker-batch", type=int, default=0, help="messages a poll of our "
                   "worker (0: the settings' worker_batch)")
    n = sub.add_parser("naive", help="the naive baseline agent (the bench starts it)")
    for flag in ("--bootstrap-servers", "--group", "--source", "--sink", "--data-dir"):
        n.add_argument(flag, required=True)
    n.add_argument("--metrics-port", type=int, required=True)
    so = sub.add_parser("scaleout", help="1 and 2 worker processes side by side, printed")
    so.add_argument("--seconds", type=float, default=3.0)
    f = sub.add_parser("profile", help="cProfile of the in-process work")
    f.add_argument("--samples", type=int, default=12_000)
    f.add_argument("--sampler", choices=("cprofile", "pyinstrument"), default="cprofile")
    i = sub.add_parser("inproc", help="CPU µs per sample of the in-process work, printed")
    i.add_argument("--samples", type=int, default=12_000)
    i.add_argument("--runs", type=int, default=1, help="runs of each side, alternately")
    i.add_argument("--polls", type=int, nargs="+", default=[0], help="messages a poll per "
                   "side (1: the per-message path; 0: worker_batch, the worker's default)")
    f.add_argument("--poll", type=int, default=0, help="as inproc's --polls, one side")
    args = p.parse_args(argv)
    if args.cmd == "bench":
        for k, v in bench_worker(args.seconds, args.worker_batch).items():
            print(f"{k:28} {v:,.3f}")
    elif args.cmd == "scaleout":
        for k, v in bench_scaleout(args.seconds).items():
            print(f"{k:28} {v:,.3f}")
    elif args.cmd == "naive":
        run_naive(args.bootstrap_servers, args.group, args.source, args.sink,
                  args.metrics_port, args.data_dir)
    elif args.cmd == "inproc":
        inproc_sides(args.samples, args.runs, args.polls)
    else:
        profile(args.samples, sampler=args.sampler, poll=args.poll)
    return 0


if __name__ == "__main__":
    sys.exit(main())
