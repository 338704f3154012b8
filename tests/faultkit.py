"""The parts of the fault runs (``tests/faults.py``) that are not scenarios: cluster settings,
a steady load that records what the cluster acknowledged, reading topics back and checking
windows against the pure pipeline, and ``forewarn`` child processes stopped by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from schemas.codec import Codec
from streams.settings import Settings
from streams.topics import consumer_config, ensure_topics, producer_config
from tests.kafka_harness import KafkaCluster, free_port

BASE_MS = 1_767_571_200_000  # 2026-01-05T00:00Z
STEP_MS = 10_000  # event time between two samples of a component
codec = Codec()


# ---- settings, load and read-back ----------------------------------------------------------


def cluster_settings(cluster: KafkaCluster, data_dir: Path, **over: Any) -> Settings:
    """Fresh topics and groups on ``cluster``, replicated 3 ways (2 in sync to acknowledge)."""
    tag = uuid.uuid4().hex[:8]
    s = Settings.load(
        env={},
        bootstrap_servers=cluster.bootstrap_servers,
        topic_prefix=f"f{tag}.",
        worker_group=f"workers-{tag}",
        actuator_group=f"actuators-{tag}",
        data_dir=str(data_dir),
        replication_factor=min(3, cluster.n),
        **over,
    )
    ensure_topics(s)
    return s


def sample(component: str, i: int) -> dict[str, Any]:
    """Step ``i`` of a slow ramp with a ripple, a little different per component."""
    k = sum(component.encode()) % 7
    return {"component": component, "host": component.split("/")[0],
            "ts": BASE_MS + i * STEP_MS,
            "metrics": {"cpu.util": 0.3 + 0.6 * (i % 400) / 400 + 0.01 * k + 0.02 * (i % 3),
                        "mem.used_pct": 40.0 + (i * k) % 5}, "tags": {}}


class Load:
    """A steady producer in a thread: ``rate`` steps per wall second, one sample per component
    per step, acks=all and idempotent. Records what the cluster acknowledged, and when."""

    def __init__(self, s: Settings, comps: list[str], rate: float) -> None:
        self.s, self.comps, self.rate = s, comps, rate
        self.producer = Producer(producer_config(s, {"acks": "all", "linger.ms": 5}))
        self.acked: set[tuple[str, int]] = set()
        self.failed: list[str] = []
        self.ack_wall: list[float] = []  # monotonic time of each acknowledgement
        self.step = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()

    def _report(self, comp: str, i: int) -> Callable[[Any, Any], None]:
        def cb(err: Any, _msg: Any) -> None:
            with self._lock:
                if err is None:
                    self.acked.add((comp, i))
                    self.ack_wall.append(time.monotonic())
                else:
                    self.failed.append(f"{comp}@{i}: {err}")
        return cb

    def _run(self) -> None:
        t0 = time.monotonic()
        topic = self.s.topic("metrics")
        while not self._stop.is_set():
            for c in self.comps:
                self.producer.produce(topic, key=c.encode(),
                                      value=codec.encode("MetricSample", sample(c, self.step)),
                                      on_delivery=self._report(c, self.step))
            self.step += 1
            self.producer.poll(0)
            while not self._stop.is_set():  # poll() returns early once it served a report
                wait = t0 + self.step / self.rate - time.monotonic()
                if wait <= 0:
                    break
                self.producer.poll(min(wait, 0.1))

    def start(self) -> Load:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 120.0) -> None:
        self._stop.set()
        self._thread.join(30)
        left = self.producer.flush(timeout_s)
        if left:
            self.failed.append(f"{left} messages still undelivered after {timeout_s} s")

    def max_ack_gap(self, since: float, until: float) -> float:
        """The longest wall time without an acknowledgement within [since, until]."""
        with self._lock:
            times = sorted(t for t in self.ack_wall if since <= t <= until)
        if len(times) < 2:
            return float("nan")
        return max(b - a for a, b in zip(times, times[1:], strict=False))


@dataclass
class Rec:
    partition: int
    offset: int
    ts_ms: int  # the record's CreateTime
    key: bytes | None
    value: bytes | None


def read_topic(s: Settings, name: str, timeout_s: float = 60.0) -> list[Rec]:
    """Every record of ``name``, each partition from the start to its end (EOF)."""
    topic = s.topic(name)
    c = Consumer(consumer_config(s, f"reader-{uuid.uuid4().hex[:6]}",
                                 {"enable.partition.eof": True}))
    try:
        parts = list(c.list_topics(topic, timeout=10).topics[topic].partitions)
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        out: list[Rec] = []
        eof: set[int] = set()
        deadline = time.monotonic() + timeout_s
        while len(eof) < len(parts) and time.monotonic() < deadline:
            for m in c.consume(1000, 0.5):
                err = m.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        eof.add(m.partition())
                    continue
                eof.discard(m.partition())
                out.append(Rec(m.partition(), m.offset(), m.timestamp()[1], m.key(), m.value()))
        return out
    finally:
        c.close()


# ---- the pure pipeline as the reference ------------------------------------------------------


def local(r: dict[str, Any]) -> dict[str, Any]:
    """The part of a RiskScore that the component's own state decides."""
    return {k: r[k] for k in ("component", "ts", "anomaly", "breach", "forecasts")} | {
        "samples_seen": r["model"]["samples_seen"], "warm": r["model"]["warm"]}


def reference(s: Settings, metrics: list[Rec]) -> dict[tuple[str, int], dict[str, Any]]:
    """Risk windows of one uninterrupted pure pipeline fed the metrics as they read back
    (per partition in offset order: a component's samples in the order the worker sees)."""
    from processors.pipeline import Pipeline
    from streams.runtime.worker import pipeline_config

    pipe = Pipeline(pipeline_config(s))
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for rec in sorted(metrics, key=lambda r: (r.partition, r.offset)):
        assert rec.value is not None
        for r in pipe.ingest(codec.decode(rec.value)[1]).risk:
            out[(r["component"], r["ts"])] = local(codec.decode(codec.encode("RiskScore", r))[1])
    return out


@dataclass
class WindowCheck:
    expected: int
    lost: int
    duplicates: int
    mismatched: int
    lost_examples: list[tuple[str, int]] = field(default_factory=list)


def check_windows(s: Settings, metrics: list[Rec], risk: list[Rec]) -> WindowCheck:
    ref = reference(s, metrics)
    seen: dict[tuple[str, int], int] = defaultdict(int)
    mismatched = 0
    for rec in risk:
        assert rec.value is not None
        r = codec.decode(rec.value)[1]
        k = (r["component"], r["ts"])
        seen[k] += 1
        if k in ref and local(r) != ref[k]:
            mismatched += 1
    lost = sorted(k for k in ref if k not in seen)
    dups = sum(n - 1 for k, n in seen.items() if k in ref)
    return WindowCheck(len(ref), len(lost), dups, mismatched, lost[:5])


def wait_windows(s: Settings, timeout_s: float) -> tuple[list[Rec], list[Rec], WindowCheck]:
    """Read metrics and risk until no reference window is missing (or time is up)."""
    deadline = time.monotonic() + timeout_s
    metrics = read_topic(s, "metrics")
    while True:
        risk = read_topic(s, "risk")
        check = check_windows(s, metrics, risk)
        if check.lost == 0 or time.monotonic() > deadline:
            return metrics, risk, check
        time.sleep(2)


def risk_gaps(risk: list[Rec], since_ms: int, until_ms: int) -> dict[int, float]:
    """Per partition, the longest wall time (s) between two risk records in [since, until]."""
    by: dict[int, list[int]] = defaultdict(list)
    for r in risk:
        by[r.partition].append(r.ts_ms)
    out = {}
    for p, ts in by.items():
        inside = sorted(t for t in ts if since_ms <= t <= until_ms)
        if len(inside) > 1:
            out[p] = max(b - a for a, b in zip(inside, inside[1:], strict=False)) / 1000
    return out


def first_after(risk: list[Rec], ms: int, partitions: set[int] | None = None) -> float:
    """Seconds from ``ms`` to the first risk record after it (on ``partitions``)."""
    ts = [r.ts_ms for r in risk
          if r.ts_ms > ms and (partitions is None or r.partition in partitions)]
    return (min(ts) - ms) / 1000 if ts else float("nan")


# ---- processes ----------------------------------------------------------------------------


class Proc:
    """``forewarn <command>`` as a child process, stopped by its PID."""

    def __init__(self, s: Settings, command: list[str], log_path: Path,
                 env: dict[str, str] | None = None) -> None:
        self.metrics_port = free_port()
        full_env = {
            **os.environ,
            "FOREWARN_BOOTSTRAP_SERVERS": s.bootstrap_servers,
            "FOREWARN_TOPIC_PREFIX": s.topic_prefix,
            "FOREWARN_WORKER_GROUP": s.worker_group,
            "FOREWARN_ACTUATOR_GROUP": s.actuator_group,
            "FOREWARN_DATA_DIR": s.data_dir,
            "FOREWARN_REPLICATION_FACTOR": str(s.replication_factor),
            "FOREWARN_SESSION_TIMEOUT_MS": str(s.session_timeout_ms),
            "FOREWARN_METRICS_PORT": str(self.metrics_port),
            **(env or {}),
        }
        self.log_path = log_path
        self._terminated = False
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", *command],
            env=full_env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )

    @classmethod
    def worker(cls, s: Settings, log_path: Path) -> Proc:
        return cls(s, ["worker", "--loglevel", "warning"], log_path)

    def scrape(self) -> dict[str, float]:
        import urllib.request

        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        text = urllib.request.urlopen(url, timeout=5).read().decode()
        return {ln.split()[0]: float(ln.split()[1]) for ln in text.splitlines()
                if ln.startswith("forewarn_")}

    def gauge(self, name: str) -> float:
        """For polling: 0.0 when the endpoint does not answer (yet)."""
        try:
            return self.scrape().get(name, 0.0)
        except OSError:
            return 0.0

    def counter(self, name: str, timeout_s: float = 60.0) -> float:
        """A value read for sure: scraped again until the endpoint answers (on a loaded box a
        scrape can time out, and a missed scrape read as 0 would fake a before/after change)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.scrape().get(name, 0.0)
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.5)

    def kill9(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM once (a second one during the graceful stop would cut it short)."""
        if self.proc.poll() is None and not self._terminated:
            self.proc.send_signal(signal.SIGTERM)
            self._terminated = True

    def stop(self, timeout_s: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        return int(self.proc.returncode)


def answers(p: Proc) -> bool:
    try:
        p.scrape()
        return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = 3) -> str:
    text = [ln for ln in path.read_text(errors="replace").splitlines()
            if ln.strip() and not ln.startswith("%")]  # librdkafka's own log lines
    return " | ".join(text[-lines:])[-600:]


def wait_until(pred: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Seconds until ``pred()``; raises after ``timeout_s``."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if pred():
            return time.monotonic() - t0
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def partitions_held(workers: list[Proc]) -> list[float]:
    return [w.gauge("forewarn_worker_partitions") for w in workers]


def now_ms() -> int:
    return int(time.time() * 1000)
