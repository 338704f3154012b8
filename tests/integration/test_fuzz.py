"""Bad input at volume, on a real broker: a worker process reads ``forewarn.metrics`` holding
valid records mixed with every kind of malformed message (``streams/sim/fuzz.py``), and must
not crash nor stall; every bad message is dead-lettered once with its reason and the stage
expected, no valid one is, valid components are scored, and every message is accounted for.

Size: ``FOREWARN_FUZZ_N`` messages (default 4,000 under ``make test``). The 100,000-message
run recorded in docs/reliability.md is::

    FOREWARN_FUZZ_N=100000 .venv/bin/python -m pytest tests/integration/test_fuzz.py -q -s
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from schemas.codec import Codec
from streams.handler import MAX_ORIGINAL_BYTES
from streams.settings import Settings
from streams.sim.fuzz import FuzzMessage, metrics_messages
from streams.topics import consumer_config, producer_config

pytestmark = pytest.mark.integration

N = int(os.environ.get("FOREWARN_FUZZ_N", "4000"))
WINDOW_MS = 60_000


def produce(settings: Settings, msgs: list[FuzzMessage]) -> list[tuple[int, int]]:
    """Send ``msgs`` in order; their (partition, offset), from the delivery reports."""
    where: list[tuple[int, int] | None] = [None] * len(msgs)
    errors: list[str] = []
    p = Producer(producer_config(settings, {"message.max.bytes": 2_000_000, "linger.ms": 20,
                                            "enable.idempotence": True}))
    topic = settings.topic("metrics")

    def report(i: int):  # noqa: ANN202
        def done(err, msg) -> None:  # noqa: ANN001
            if err is not None:
                errors.append(f"{i}: {err}")
            else:
                where[i] = (msg.partition(), msg.offset())
        return done

    for i, m in enumerate(msgs):
        while True:
            try:
                p.produce(topic, value=m.value, key=m.key, on_delivery=report(i))
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    assert p.flush(60) == 0
    assert not errors, errors[:5]
    return [w for w in where if w is not None]


def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    c = Consumer(consumer_config(settings, "fuzz-probe"))
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in parts}
    finally:
        c.close()


def committed(settings: Settings, topic: str, parts: list[int]) -> dict[int, int]:
    c = Consumer(consumer_config(settings, settings.worker_group))
    try:
        got = c.committed([TopicPartition(topic, p) for p in parts], timeout=10)
        return {tp.partition: tp.offset for tp in got}
    finally:
        c.close()


def read_topic(settings: Settings, name: str, expect: int, timeout_s: float) -> list:
    """Every (partition, offset, value) of a topic, read until ``expect`` are in (or quiet)."""
    topic = settings.topic(name)
    c = Consumer(consumer_config(settings, "fuzz-reader", {"fetch.max.bytes": 50_000_000}))
    out: list = []
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        deadline, quiet = time.monotonic() + timeout_s, time.monotonic()
        while time.monotonic() < deadline:
            msgs = c.consume(2000, 0.5)
            out += [(m.partition(), m.offset(), m.value()) for m in msgs if not m.error()]
            if msgs:
                quiet = time.monotonic()
            if len(out) >= expect and time.monotonic() - quiet > 2:
                break
            if time.monotonic() - quiet > 20:
                break
        return out
    finally:
        c.close()


def scrape(port: int) -> dict[str, float]:
    """The worker's Prometheus counters and gauges (name with labels -> value)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("forewarn_") and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def proc_stats(pid: int) -> tuple[int, int, int]:
    """(threads, open file descriptors, RSS in KB) of a process."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return (int(fields["Threads"]), len(os.listdir(f"/proc/{pid}/fd")),
            int(fields["VmRSS"].split()[0]))


def test_fuzzed_metrics_are_all_accounted_for(settings: Settings, tmp_path: Path) -> None:
    now = int(time.time() * 1000)
    msgs = metrics_messages(N, now_ms=now)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ,
           "FOREWARN_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
           "FOREWARN_TOPIC_PREFIX": settings.topic_prefix,
           "FOREWARN_WORKER_GROUP": settings.worker_group,
           "FOREWARN_DATA_DIR": settings.data_dir,
           "FOREWARN_MAX_PAST_S": str(30 * 86_400),
           # a flood of new ids: null-keyed valid samples are each a component of their own
           "FOREWARN_MAX_COMPONENTS": str(max(200, N // 40)),
           "FOREWARN_METRICS_PORT": str(port)}
    log_path = tmp_path / "worker.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "worker", "--loglevel", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    result: dict = {"n": N}
    try:
        topic = settings.topic("metrics")
        t0 = time.monotonic()
        where = produce(settings, msgs)
        result["produce_s"] = round(time.monotonic() - t0, 1)
        assert len(where) == len(msgs)
        ends = end_offsets(settings, topic)
        # 0 stalls: the group commits up to the end of every partition
        deadline = time.monotonic() + 120 + N / 200
        before = None
        while time.monotonic() < deadline:
            assert worker.poll() is None, f"worker died: {log_path.read_text()[-3000:]}"
            got = committed(settings, topic, list(ends))
            if before is None and any(o > 0 for o in got.values()):
                before = proc_stats(worker.pid)  # once it is processing
            if all(got.get(p, -1) >= e for p, e in ends.items()):
                break
            time.sleep(2)
        else:
            pytest.fail(f"stalled: committed {got}, end {ends}")
        result["drain_s"] = round(time.monotonic() - t0, 1)
        after = proc_stats(worker.pid)
        result["threads_fds_rss_kb"] = {"first": before, "end": after}
        # no leak: before, a producer per restarted agent took threads 19 -> 33, fds 40 -> 62
        assert before is not None and after[0] <= before[0] + 4 and after[1] <= before[1] + 8

        codec = Codec()
        expected_bad = {w: m for w, m in zip(where, msgs, strict=True) if m.stage}
        dead = read_topic(settings, "deadletter", len(expected_bad), 120 + N / 500)
        by_source: dict[tuple[int, int], list[dict]] = defaultdict(list)
        for _, _, value in dead:
            rec = codec.decode(value, ("DeadLetter",))[1]
            assert rec["source_topic"] == topic
            by_source[(rec["partition"], rec["offset"])].append(rec)
        # every bad message dead-lettered exactly once, at the stage expected, with a reason
        wrong = Counter()
        for w, m in expected_bad.items():
            got_stages = [r["stage"] for r in by_source.get(w, [])]
            if got_stages != [m.stage]:
                wrong[(m.kind, tuple(got_stages))] += 1
        assert not wrong, dict(wrong)
        # ... and no valid one
        strays = [w for w in by_source if w not in expected_bad]
        assert not strays, [(w, by_source[w][0]["reason"][:200]) for w in strays[:5]]
        for recs in by_source.values():
            assert recs[0]["reason"] and len(recs[0]["original"]) <= MAX_ORIGINAL_BYTES
        huge = [r[0] for w, r in by_source.items() if expected_bad[w].kind.startswith("huge")]
        assert all("truncated" in r["reason"] for r in huge if len(r["original"]) > 0)

        # valid components scored up to their last closed window
        last_ts: dict[str, int] = {}
        for m in msgs:
            if not m.stage and m.component.startswith("fz-") and "nk" not in m.component:
                last_ts[m.component] = max(last_ts.get(m.component, 0), m.last_ts)
        risk = read_topic(settings, "risk", len(last_ts), 60)
        scored: dict[str, int] = {}
        for _, _, value in risk:
            rec = codec.decode(value, ("RiskScore",))[1]
            scored[rec["component"]] = max(scored.get(rec["component"], 0), rec["ts"])
        lagging = {c: (scored.get(c), t) for c, t in last_ts.items()
                   if scored.get(c, 0) < t - 3 * WINDOW_MS}
        assert not lagging, lagging

        # the worker's own counters agree: every message read, every dead letter counted
        scraped = scrape(port)
        assert scraped.get("forewarn_worker_messages_total") == N
        assert sum(v for k, v in scraped.items()
                   if k.startswith("forewarn_dead_letters_total")) == len(expected_bad)
        result["worker_counters"] = {
            k: v for k, v in scraped.items() if "_created" not in k and (
                "evicted" in k or "dead_letters" in k or k.startswith("forewarn_worker_comp"))}
        kinds = Counter(m.kind for m in msgs)
        result.update({
            "valid": sum(1 for m in msgs if not m.stage), "bad": len(expected_bad),
            "dead_letters": sum(len(v) for v in by_source.values()),
            "risk_events": len(risk), "components_scored": len(scored), "kinds": dict(kinds),
            "stages": dict(Counter(m.stage for m in expected_bad.values())),
        })
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            t_stop = time.monotonic()
            try:
                worker.wait(60)
                result["stop_s"] = round(time.monotonic() - t_stop, 1)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(10)
                pytest.fail("worker did not stop within 60 s of SIGTERM")
        log.close()
    text = log_path.read_text(errors="replace")
    assert worker.returncode == 0, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    result["worker_exit"] = worker.returncode
    print("\nfuzz result:", json.dumps(result))
    out = os.environ.get("FOREWARN_FUZZ_OUT")
    if out:
        Path(out).write_text(json.dumps(result, indent=1))


FORMATS = {"telegraf": "telegraf", "prometheus": "prometheus", "otlp-json": "otlp",
           "vector": "vector"}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_fuzzed_ingest_topics_are_all_accounted_for(fmt: str, settings: Settings) -> None:
    """Each ingest format's topic, fuzzed likewise (``FOREWARN_FUZZ_N`` / 4 messages each):
    ``forewarn ingest`` neither crashes nor stalls, dead-letters every malformed message once
    with its reason, and none of the format's own good messages."""
    import threading

    from confluent_kafka.admin import AdminClient, NewTopic

    from streams.runtime.ingest import Ingestor
    from streams.sim.fuzz import ingest_messages

    root = Path(__file__).resolve().parents[1] / "data" / "formats"
    good = [line.encode() for line in (root / f"{FORMATS[fmt]}_messages.jsonl").read_text()
            .splitlines() if line.strip()]
    n = max(500, N // 4)
    msgs = ingest_messages(fmt, n, now_ms=int(time.time() * 1000), good=good)
    source = f"{settings.topic_prefix}in.{fmt}"
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    for fut in admin.create_topics([NewTopic(source, 3, 1)]).values():
        fut.result(15)
    p = Producer(producer_config(settings, {"message.max.bytes": 2_000_000}))
    where: list = [None] * n
    for i, m in enumerate(msgs):
        p.produce(source, value=m.value, key=m.key,
                  on_delivery=lambda err, msg, i=i: where.__setitem__(
                      i, None if err else (msg.partition(), msg.offset())))
        p.poll(0)
    assert p.flush(60) == 0 and None not in where

    group = f"ingest-{fmt}-{settings.topic_prefix}"
    ingestor = Ingestor(settings, fmt, source, group=group)
    stop, failure = threading.Event(), []

    def loop() -> None:
        try:
            ingestor.run(stop)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            failure.append(exc)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        ends = end_offsets(settings, source)
        c = Consumer(consumer_config(settings, group))
        deadline = time.monotonic() + 120 + n / 100
        try:
            while time.monotonic() < deadline:
                assert not failure, failure
                got = {tp.partition: tp.offset for tp in c.committed(
                    [TopicPartition(source, q) for q in ends], timeout=10)}
                if all(got.get(q, -1) >= e for q, e in ends.items()):
                    break
                time.sleep(1)
            else:
                pytest.fail(f"ingest stalled: committed {got}, end {ends}")
        finally:
            c.close()
    finally:
        stop.set()
        thread.join(30)
        ingestor.close()
    assert not thread.is_alive() and not failure

    codec = Codec()
    bad = {w: m for w, m in zip(where, msgs, strict=True) if m.stage}
    dead = [codec.decode(v, ("DeadLetter",))[1] for _, _, v in
            read_topic(settings, "deadletter", len(bad), 60)]
    mine: dict[tuple[int, int], list[str]] = defaultdict(list)
    for rec in dead:
        if rec["source_topic"] == source:
            mine[(rec["partition"], rec["offset"])].append(rec["stage"])
            assert rec["reason"] and len(rec["original"]) <= MAX_ORIGINAL_BYTES
    wrong = {w: (bad[w].kind if w in bad else "good", stages) for w, stages in mine.items()
             if w not in bad or len(stages) != 1}
    missing = [bad[w].kind for w in bad if w not in mine]
    assert not wrong and not missing, (wrong, Counter(missing))
    assert ingestor.stats.messages >= n and ingestor.stats.batches > 0
    print(f"\ningest fuzz {fmt}: {n} messages, {len(bad)} malformed, {len(mine)} dead letters "
          f"{dict(Counter(s for v in mine.values() for s in v))}, {ingestor.stats.batches} "
          "MetricBatch messages out")


def test_ten_unreadable_1mb_messages_then_12000_valid_ones(settings: Settings,
                                                            tmp_path: Path) -> None:
    """The attack as reported: ten 1 MB unreadable messages froze commits, and of 12,000
    valid messages sent afterwards only part were processed; SIGTERM did not stop it."""
    from schemas.codec import Codec as _Codec

    codec, now = _Codec(), int(time.time() * 1000)
    t0 = now - 400 * 10_000
    msgs = [FuzzMessage("huge_random", b"attacker", b"\xfe" + bytes(range(256)) * 3900, "decode")
            for _ in range(10)]
    for i in range(300):
        for c in range(40):
            rec = {"component": f"v-{c}", "host": f"v-{c}", "ts": t0 + i * 10_000,
                   "metrics": {"cpu.util": 0.4}, "tags": {}}
            msgs.append(FuzzMessage("avro", f"v-{c}".encode(),
                                    codec.encode("MetricSample", rec), "", f"v-{c}"))
    env = {**os.environ, "FOREWARN_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
           "FOREWARN_TOPIC_PREFIX": settings.topic_prefix,
           "FOREWARN_WORKER_GROUP": settings.worker_group, "FOREWARN_DATA_DIR": settings.data_dir}
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker", "--loglevel",
                                   "warning"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
    try:
        where = produce(settings, msgs)
        topic = settings.topic("metrics")
        ends = end_offsets(settings, topic)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert worker.poll() is None, log_path.read_text()[-2000:]
            got = committed(settings, topic, list(ends))
            if all(got.get(q, -1) >= e for q, e in ends.items()):
                break
            time.sleep(1)
        else:
            pytest.fail(f"stalled: committed {got}, end {ends}")
        dead = [codec.decode(v, ("DeadLetter",))[1]
                for _, _, v in read_topic(settings, "deadletter", 10, 60)]
        assert sorted((d["partition"], d["offset"]) for d in dead) == sorted(where[:10])
        assert all("truncated" in d["reason"] and len(d["original"]) == MAX_ORIGINAL_BYTES
                   for d in dead)
        risk = [codec.decode(v, ("RiskScore",))[1]
                for _, _, v in read_topic(settings, "risk", 40 * 45, 60)]
        last = {}
        for r in risk:
            last[r["component"]] = max(last.get(r["component"], 0), r["ts"])
        assert len(last) == 40  # every valid component scored, to its last closed window
        assert min(last.values()) >= t0 + 299 * 10_000 - 3 * WINDOW_MS
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)
            pytest.fail("the worker did not stop within 60 s of SIGTERM")
    assert worker.returncode == 0, log_path.read_text()[-2000:]
