"""Worker processes for the throughput benchmarks (``streams/bench/throughput.py``): start
``forewarn worker`` (or the naive agent) as a child, poll its samples counter, and measure its
rate until its group has committed everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
from confluent_kafka import Consumer, TopicPartition

from streams.runtime.broker import free_port
from streams.settings import Settings
from streams.topics import consumer_config

WORKER_ARGV = [sys.executable, "-m", "streams.cli", "worker", "--loglevel", "warning"]


def worker_env(s: Settings, data_dir: str, port: int, **extra: str) -> dict[str, str]:
    """The environment of a ``forewarn worker`` child on ``s``'s broker and topics."""
    return {"FOREWARN_BOOTSTRAP_SERVERS": s.bootstrap_servers,
            "FOREWARN_TOPIC_PREFIX": s.topic_prefix, "FOREWARN_WORKER_GROUP": s.worker_group,
            "FOREWARN_DATA_DIR": data_dir, "FOREWARN_METRICS_PORT": str(port),
            "FOREWARN_REPLICATION_FACTOR": str(s.replication_factor), **extra}


class WorkerChild:
    """A worker-like child process whose samples counter we poll."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def samples(self) -> float | None:
        return self.counter("forewarn_worker_samples_total")

    def counter(self, name: str) -> float | None:
        """``name``'s value on the child's /metrics; None if it does not answer or has none."""
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2)
        except OSError:
            return None
        for line in text.read().decode().splitlines():
            if line.startswith(f"{name} "):
                return float(line.split()[1])
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def measure(child: WorkerChild | list[WorkerChild], total: int, committed: Callable[[], int],
            n_msgs: int, timeout_s: float) -> dict[str, float]:
    """Poll ``child`` (or several in one group, their counters summed) until it has processed
    ``total`` samples and the group committed all."""
    children = child if isinstance(child, list) else [child]
    procs = [psutil.Process(c.proc.pid) for c in children]
    deadline = time.monotonic() + timeout_s
    first: tuple[float, float, float] | None = None
    done = lag0 = None
    cpu_s = 0.0
    while time.monotonic() < deadline:
        for c in children:
            if c.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {c.proc.returncode}")
        now, counts = time.monotonic(), [c.samples() for c in children]
        # a child not answering yet has processed nothing: the clock starts at the first
        # progress of any of them
        n = None if all(x is None for x in counts) else sum(x or 0.0 for x in counts)
        if n and first is None:
            first = (now, n, sum(map(_cpu, procs)))
        if first is not None and done is None and n is not None and n >= total:
            done, cpu_s = now, sum(map(_cpu, procs)) - first[2]
        if done is not None and committed() >= n_msgs:
            lag0 = time.monotonic()
            break
        time.sleep(0.05)
    if first is None or done is None or lag0 is None:
        raise RuntimeError(f"worker did not finish {total} samples in {timeout_s} s")
    got = {"samples_s": (total - first[1]) / max(done - first[0], 1e-9),
           "samples_cpu_s": (total - first[1]) / max(cpu_s, 1e-9), "lag0_s": lag0 - first[0]}
    polls = [(c.counter("forewarn_worker_messages_total"), c.counter("forewarn_worker_polls_total"))
             for c in children]
    if all(m and p for m, p in polls):  # a forewarn worker: its mean poll, in messages
        got["poll_msgs"] = sum(m or 0.0 for m, _ in polls) / sum(p or 0.0 for _, p in polls)
    return got


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def committed_counter(settings: Settings, group: str, topic: str) -> Callable[[], int]:
    c = Consumer(consumer_config(settings, group))
    tps = [TopicPartition(topic, p) for p in range(settings.partitions)]

    def total() -> int:
        return sum(max(tp.offset, 0) for tp in c.committed(tps, timeout=5))
    return total


def worker_children(n: int, s: Settings, tmp: str, tag: str) -> list[WorkerChild]:
    children = []
    for i in range(n):
        port = free_port()
        env = worker_env(s, str(Path(tmp) / f"{tag}-{i}"), port,
                         FOREWARN_PARTITIONS=str(s.partitions))
        children.append(WorkerChild(WORKER_ARGV, env, port, Path(tmp) / f"{tag}-{i}.log"))
    return children
