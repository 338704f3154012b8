"""Scale-out and fault runs on the Apache Kafka harness: a 3-node KRaft cluster, topics with
replication factor 3 and ``min.insync.replicas=2``, producers ``acks=all`` and idempotent.

Each scenario runs real processes against the real cluster and returns a :class:`Result` row;
nothing is mocked. What "lost" means is checked against the data, not a counter:

- *acknowledged metrics lost*: samples whose produce the cluster acknowledged (delivery report
  without error) and that are not in ``forewarn.metrics`` when read back afterwards;
- *windows lost*: (component, window) pairs that the pure pipeline, fed the metrics topic as it
  reads back, closes and that no record on ``forewarn.risk`` carries (duplicates allowed);
  records that disagree with the pure pipeline on what the component's own state decides are
  counted apart (``mismatched``);
- *commands applied twice with a different effect*: one ``command_id`` on ``forewarn.allocations``
  with two different contents.

Pauses are measured from record timestamps (CreateTime: the producing process's wall clock).

    python -m tests.faults                     # every scenario, full size (`make faults`)
    python -m tests.faults scale leader --quick

The small versions run in ``make test-kafka`` (tests/integration/test_faults.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
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


def _answers(p: Proc) -> bool:
    try:
        p.scrape()
        return True
    except OSError:
        return False


def _tail(path: Path, lines: int = 3) -> str:
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



# ---- scenarios ----------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    ok: bool
    figures: dict[str, Any]
    problems: list[str] = field(default_factory=list)


def _loss(load: Load, metrics: list[Rec]) -> int:
    present = set()
    for r in metrics:
        assert r.value is not None
        rec = codec.decode(r.value)[1]
        present.add((rec["component"], (rec["ts"] - BASE_MS) // STEP_MS))
    return len(load.acked - present)


def _verdict(name: str, figures: dict[str, Any], load: Load | None,
             check: WindowCheck | None) -> Result:
    problems = []
    if load is not None and load.failed:
        problems.append(f"{len(load.failed)} produce failures, e.g. {load.failed[:2]}")
    if figures.get("acked_lost", 0):
        problems.append(f"{figures['acked_lost']} acknowledged metrics lost")
    if check is not None:
        if check.lost:
            problems.append(f"{check.lost} windows lost, e.g. {check.lost_examples}")
        if check.mismatched:
            problems.append(f"{check.mismatched} risk records disagree with the pure pipeline")
    return Result(name, not problems, figures, problems)


def comps_over_partitions(prefix: str, n: int = 12) -> list[str]:
    return [f"{prefix}-{i}/svc" for i in range(n)]


def scale_out(cluster: KafkaCluster, work: Path, phase_s: float = 20.0, rate: float = 5.0,
              n_comps: int = 12) -> Result:
    """Workers 1 → 3 → 1 under steady load."""
    s = cluster_settings(cluster, work)
    load = Load(s, comps_over_partitions("sc", n_comps), rate).start()
    workers = [Proc.worker(s, work / "a.log")]
    figures: dict[str, Any] = {"components": n_comps, "samples_per_s": n_comps * rate}
    try:
        wait_until(lambda: partitions_held(workers) == [3.0], 90, "worker a to hold 3")
        time.sleep(phase_s)
        t_out = now_ms()  # assign time includes the new workers' start-up (~5-10 s)
        workers += [Proc.worker(s, work / "b.log"), Proc.worker(s, work / "c.log")]
        figures["scale_out_assign_s"] = round(wait_until(
            lambda: partitions_held(workers) == [1.0, 1.0, 1.0], 120, "1 partition each"), 1)
        time.sleep(phase_s)
        t_in, mono_in = now_ms(), time.monotonic()
        for w in workers[1:]:  # SIGTERM both at once: they leave the group together
            w.terminate()
        rcs = [w.stop() for w in workers[1:]]
        figures["scale_in_exit_codes"] = rcs
        wait_until(lambda: partitions_held(workers[:1]) == [3.0], 120, "worker a to hold 3")
        figures["scale_in_assign_s"] = round(time.monotonic() - mono_in, 1)
        time.sleep(phase_s)
    finally:
        load.stop()
    try:
        metrics, risk, check = wait_windows(s, 120)
    finally:
        for w in workers:
            w.stop()
    figures["acked"] = len(load.acked)
    figures["acked_lost"] = _loss(load, metrics)
    figures.update(windows=check.expected, windows_lost=check.lost,
                   duplicate_windows=check.duplicates, mismatched=check.mismatched)
    steady = risk_gaps(risk, t_out - int(phase_s * 1000), t_out)
    out_gaps = risk_gaps(risk, t_out, t_out + 60_000)
    in_gaps = risk_gaps(risk, t_in, t_in + 60_000)
    figures["steady_max_gap_s"] = round(max(steady.values(), default=float("nan")), 2)
    figures["scale_out_pause_s"] = round(max(out_gaps.values(), default=float("nan")), 2)
    figures["scale_in_pause_s"] = round(max(in_gaps.values(), default=float("nan")), 2)
    return _verdict("scale 1→3→1", figures, load, check)


def worker_kill(cluster: KafkaCluster, work: Path, phase_s: float = 20.0, rate: float = 5.0,
                n_comps: int = 12) -> Result:
    """Two workers; ``kill -9`` one under load; the other restores its partitions' state."""
    s = cluster_settings(cluster, work)
    load = Load(s, comps_over_partitions("wk", n_comps), rate).start()
    a, b = Proc.worker(s, work / "a.log"), Proc.worker(s, work / "b.log")
    figures: dict[str, Any] = {"components": n_comps, "samples_per_s": n_comps * rate,
                               "session_timeout_ms": s.session_timeout_ms}
    try:
        wait_until(lambda: sum(partitions_held([a, b])) == 3 and min(partitions_held([a, b])) > 0,
                   120, "two workers to share 3 partitions")
        time.sleep(phase_s)
        restored_before = b.counter("forewarn_checkpoints_restored_total")
        t_kill = now_ms()
        a.kill9()
        figures["takeover_assign_s"] = round(wait_until(
            lambda: partitions_held([b]) == [3.0], 120, "b to hold 3"), 1)
        time.sleep(phase_s)
        figures["checkpoints_restored"] = b.counter("forewarn_checkpoints_restored_total") - \
            restored_before
        figures["replayed_messages"] = b.counter("forewarn_replayed_messages_total")
    finally:
        load.stop()
    try:
        metrics, risk, check = wait_windows(s, 120)
    finally:
        a.stop()
        b.stop()
    figures["acked"] = len(load.acked)
    figures["acked_lost"] = _loss(load, metrics)
    figures.update(windows=check.expected, windows_lost=check.lost,
                   duplicate_windows=check.duplicates, mismatched=check.mismatched)
    parts = {r.partition for r in risk}
    figures["risk_resumed_s"] = round(max(first_after(risk, t_kill, {p}) for p in parts), 2)
    res = _verdict("kill -9 worker", figures, load, check)
    if not figures["checkpoints_restored"]:
        res.ok = False
        res.problems.append("the surviving worker restored no checkpoint")
    return res


def leader_kill(cluster: KafkaCluster, work: Path, phase_s: float = 20.0, rate: float = 5.0,
                n_comps: int = 12) -> Result:
    """``kill -9`` the broker leading metrics partition 0 under load; bring it back later."""
    s = cluster_settings(cluster, work)
    load = Load(s, comps_over_partitions("ld", n_comps), rate).start()
    a = Proc.worker(s, work / "a.log")
    act = Proc(s, ["actuate", "--backend", "dryrun"], work / "actuator.log")
    figures: dict[str, Any] = {"components": n_comps, "samples_per_s": n_comps * rate}
    try:
        wait_until(lambda: partitions_held([a]) == [3.0], 90, "the worker to hold 3")
        time.sleep(phase_s)
        leader = cluster.leader_of(s.topic("metrics"), 0)
        figures["killed_node"] = leader
        t_kill, mono_kill = _kill_and_wait_for_risk(cluster, leader, act, phase_s, figures)
        figures["new_leader"] = cluster.leader_of(s.topic("metrics"), 0)
        cluster.start_node(leader)
        t_back = now_ms()
        time.sleep(phase_s)
        figures["isr_after_restart"] = cluster.isr_of(s.topic("metrics"), 0)
    finally:
        load.stop()
    try:
        metrics, risk, check = wait_windows(s, 120)
    finally:
        figures["worker_exit"] = a.stop()
        figures["actuator_exit"] = act.stop()
    figures["acked"] = len(load.acked)
    figures["acked_lost"] = _loss(load, metrics)
    figures["produce_pause_s"] = round(load.max_ack_gap(mono_kill - 1, mono_kill + 30), 2)
    figures.update(windows=check.expected, windows_lost=check.lost,
                   duplicate_windows=check.duplicates, mismatched=check.mismatched)
    figures["risk_pause_s"] = round(max(risk_gaps(risk, t_kill, t_back).values(),
                                        default=float("nan")), 2)
    res = _verdict("kill -9 partition leader broker", figures, load, check)
    if act.proc.returncode not in (None, 0):
        res.ok = False
        res.problems.append(f"the actuator exited with {act.proc.returncode}: "
                            f"{_tail(act.log_path)}")
    if figures["actuator_risk_events_while_down"] <= 0:
        res.ok = False
        res.problems.append(f"the actuator read no risk in the {RESUME_WAIT_S:.0f} s the "
                            "broker was kept down for it")
    return res


RESUME_WAIT_S = 180.0  # how long a killed leader stays down at most, for the actuator to read


def _kill_and_wait_for_risk(cluster: KafkaCluster, leader: int, act: Proc, phase_s: float,
                            figures: dict[str, Any]) -> tuple[int, float]:
    """Kill ``leader`` and keep it down for ``phase_s`` AND until the actuator has read new
    risk (at most RESUME_WAIT_S): what must hold is that risk flows again while a node is
    down, not that it does so within a fixed time on a loaded machine; the time it took is
    measured (``actuator_resumed_s``)."""
    name = "forewarn_actuator_risk_events_total"
    before = act.counter(name)
    t_kill, mono_kill = now_ms(), time.monotonic()
    cluster.kill(leader)
    try:
        figures["actuator_resumed_s"] = round(
            wait_until(lambda: act.gauge(name) > before, RESUME_WAIT_S, "risk at the actuator"), 2)
    except TimeoutError:
        figures["actuator_resumed_s"] = float("nan")
    time.sleep(max(0.0, phase_s - (time.monotonic() - mono_kill)))
    figures["actuator_risk_events_while_down"] = act.counter(name) - before
    figures["down_s"] = round(time.monotonic() - mono_kill, 1)
    return t_kill, mono_kill


def risk_stream(s: Settings, hosts: int = 6, per_host: int = 6, steps: int = 240
                ) -> list[tuple[bytes, bytes]]:
    """Real RiskScore records (the pure pipeline over ramps), keyed by component: components
    several to a host, so that they compete for the host's pools."""
    from processors.pipeline import Pipeline
    from streams.runtime.worker import pipeline_config

    pipe = Pipeline(pipeline_config(s))
    out = []
    comps = [(f"h{h}/c{c}", h, c) for h in range(hosts) for c in range(per_host)]
    for i in range(steps):
        for comp, h, c in comps:
            top = 0.7 + 0.3 * ((h + c) % 3) / 2  # some ramp to a breach, some stay below
            rec = {"component": comp, "host": comp.split("/")[0], "ts": BASE_MS + i * STEP_MS,
                   "metrics": {"cpu.util": 0.3 + (top - 0.3) * i / steps,
                               "mem.used_pct": 40.0 + 30 * i / steps * ((c % 2) + 0.2)},
                   "tags": {}}
            for r in pipe.ingest(rec).risk:
                out.append((comp.encode(), codec.encode("RiskScore", r)))
    return out


class Feeder(threading.Thread):
    """Produces ``records`` to ``forewarn.risk`` evenly over ``seconds``."""

    def __init__(self, s: Settings, records: list[tuple[bytes, bytes]], seconds: float) -> None:
        super().__init__(daemon=True)
        self.s, self.records, self.seconds = s, records, seconds
        self.error: str | None = None

    def run(self) -> None:
        p = Producer(producer_config(self.s, {"acks": "all"}))
        t0 = time.monotonic()
        for n, (key, value) in enumerate(self.records):
            p.produce(self.s.topic("risk"), key=key, value=value)
            p.poll(0)
            wait = t0 + (n + 1) * self.seconds / len(self.records) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        if p.flush(60):
            self.error = "risk records undelivered"


def group_lag(s: Settings, group: str, topic: str) -> int:
    c = Consumer(consumer_config(s, group))
    try:
        parts = list(c.list_topics(s.topic(topic), timeout=10).topics[s.topic(topic)].partitions)
        tps = [TopicPartition(s.topic(topic), p) for p in parts]
        lag = 0
        for tp in c.committed(tps, timeout=10):
            hi = c.get_watermark_offsets(tp, timeout=10)[1]
            lag += hi - max(tp.offset, 0)
        return lag
    finally:
        c.close()


def actuator_kill(cluster: KafkaCluster, work: Path, kills: int = 8, seed: int = 7) -> Result:
    """``kill -9`` the actuator ``kills`` times while it works through a risk backlog."""
    import random

    rnd = random.Random(seed)
    s = cluster_settings(cluster, work)
    records = risk_stream(s)
    figures: dict[str, Any] = {"risk_events": len(records), "kills": kills}
    restored: list[int] = []
    # The risk stream arrives while the actuator is killed again and again, each time
    # 0.2-2 s after it has begun to act (it has read risk): kills land anywhere between
    # produce, apply, state save and commit. A new life waits out the dead member's session.
    feeder = Feeder(s, records, seconds=kills * 6.0)
    feeder.start()
    for _ in range(kills):
        act = Proc(s, ["actuate", "--backend", "dryrun"], work / "actuator.log")
        try:
            wait_until(lambda a=act: _answers(a), 90, "the actuator's metrics endpoint")
            with contextlib.suppress(TimeoutError):  # none left to read: kill it all the same
                wait_until(lambda a=act: a.gauge("forewarn_actuator_risk_events_total") > 0,
                           15, "the actuator to read risk")
            time.sleep(rnd.uniform(0.2, 2.0))
        finally:
            act.kill9()
            act.stop()
    feeder.join()
    last_kill_ms = now_ms()
    final = Proc(s, ["actuate", "--backend", "dryrun"], work / "actuator.log")
    try:
        figures["drain_s"] = round(wait_until(
            lambda: group_lag(s, s.actuator_group, "risk") == 0, 240, "the backlog to drain"), 1)
        time.sleep(3)
    finally:
        final.stop()
    for line in (work / "actuator.log").read_text(errors="replace").splitlines():
        found = re.search(r"engine state restored .*?(\d+) leases", line)
        if found:
            restored.append(int(found.group(1)))
    cmds: dict[str, set[str]] = defaultdict(set)
    copies = before_last_kill = 0
    for r in read_topic(s, "allocations"):
        assert r.value is not None
        c = codec.decode(r.value)[1]
        cmds[c["command_id"]].add(json.dumps(c, sort_keys=True))
        copies += 1
        before_last_kill += r.ts_ms < last_kill_ms
    conflicting = sorted(cid for cid, v in cmds.items() if len(v) > 1)
    figures.update(commands=len(cmds), command_records=copies,
                   command_records_in_killed_lives=before_last_kill,
                   ids_with_different_content=len(conflicting),
                   restarts_with_leases_restored=sum(1 for n in restored if n > 0))
    problems = [feeder.error] if feeder.error else []
    if conflicting:
        problems.append(f"{len(conflicting)} command ids carry different commands, e.g. "
                        f"{sorted(cmds[conflicting[0]])}")
    if not any(n > 0 for n in restored):
        problems.append("no restart restored a lease")
    if not cmds:
        problems.append("the backlog caused no command")
    return Result("kill -9 actuator", not problems, figures, problems)


SCENARIOS: dict[str, Callable[..., Result]] = {
    "scale": scale_out, "worker": worker_kill, "leader": leader_kill, "actuator": actuator_kill,
}
QUICK = {"scale": {"phase_s": 10.0}, "worker": {"phase_s": 10.0},
         "leader": {"phase_s": 10.0}, "actuator": {"kills": 3}}


def run(names: list[str], quick: bool, out: Path | None = None,
        keep: Path | None = None) -> list[Result]:
    import tempfile

    results = []
    with tempfile.TemporaryDirectory(prefix="forewarn-faults-") as scratch, \
            KafkaCluster(nodes=3, base_dir=Path(scratch) / "kafka") as cluster:
        tmp = keep or Path(scratch)
        for name in names:
            work = tmp / name
            work.mkdir(parents=True)
            t0 = time.monotonic()
            res = SCENARIOS[name](cluster, work, **(QUICK[name] if quick else {}))
            res.figures["run_s"] = round(time.monotonic() - t0, 1)
            print(json.dumps(asdict(res)), flush=True)
            results.append(res)
            for n in cluster.nodes:  # a scenario that killed a node leaves it back up
                if not n.running():
                    cluster.start_node(n.node_id)
    if out is not None:
        out.write_text(json.dumps([asdict(r) for r in results], indent=1))
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.faults", description=__doc__.split("\n")[0])
    ap.add_argument("scenarios", nargs="*", choices=[*SCENARIOS, []], default=[])
    ap.add_argument("--quick", action="store_true", help="the small versions (make test-kafka)")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--keep", type=Path, help="keep each scenario's logs in this folder")
    args = ap.parse_args(argv)
    results = run(args.scenarios or list(SCENARIOS), args.quick, args.json, args.keep)
    for r in results:
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.scenario}: "
              + ", ".join(f"{k}={v}" for k, v in r.figures.items())
              + ("" if r.ok else f" -- {'; '.join(r.problems)}"))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
