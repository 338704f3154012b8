"""Shipper benchmark: CPU and memory of ``forewarn ship`` at its interval."""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from schemas.errors import ForewarnError
from streams.settings import Settings
from streams.ship.collect import CgroupCollector, Collector, HostCollector

if TYPE_CHECKING:
    from streams.ship.shipper import Shipper

# -------------------------------------------------------------------------------- bench


def bench_shipper(seconds: float = 20.0, bootstrap_servers: str | None = None) -> dict[str, float]:
    """The shipper's cost, measured in a child process against a broker (an embedded one
    unless ``bootstrap_servers`` is given): CPU share of one core at a 10 s interval and
    resident memory. Half of ``seconds`` idles between collections, half collects every
    0.1 s; the share is ``idle + cpu_per_collection / 10``."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from streams.runtime.broker import EmbeddedBroker

    broker = None
    if bootstrap_servers is None:
        broker = EmbeddedBroker().start()
        bootstrap_servers = broker.bootstrap_servers
    try:
        proc = subprocess.run(
            [sys.executable, "-c",
             "import sys, streams.bench.shipper as s; s._bench_child(sys.argv[1:])",
             bootstrap_servers, str(seconds)],
            cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True,
            timeout=seconds * 3 + 120, check=False,
        )
    finally:
        if broker is not None:
            broker.stop()
    if proc.returncode != 0:
        raise ForewarnError(f"shipper bench failed: {proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _bench_child(argv: Sequence[str]) -> None:
    import json
    import os
    import resource
    import uuid

    import psutil

    from streams.ship.shipper import Shipper

    bootstrap, seconds = argv[0], float(argv[1])
    settings = Settings.load(env={}, bootstrap_servers=bootstrap,
                             topic_prefix=f"bench{uuid.uuid4().hex[:6]}.")
    from streams.topics import ensure_topics

    ensure_topics(settings)
    host = socket.gethostname()
    collectors: list[Collector] = [HostCollector(host)]
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        collectors.append(CgroupCollector(host, ["system.slice/*.service"]))
    shipper = Shipper(settings, collectors, interval_s=10.0, create_topics=False)
    for _ in range(3):  # warm up: connect, metadata, first rates
        shipper.tick()
        shipper.service(0.5)
    half = seconds / 2
    idle_share = _idle_share(shipper, half)
    # Collections every 0.1 s: each is collect + encode + produce + its delivery report.
    fast = Shipper(settings, collectors, interval_s=0.1, create_topics=False)
    c0, t0 = time.process_time(), time.monotonic()
    fast.run(duration_s=half)
    wall = time.monotonic() - t0
    cpu = time.process_time() - c0
    ticks = max(1, fast.stats.collections)
    per_tick_s = max(0.0, cpu - idle_share * wall) / ticks
    collect_s = _collect_only_s(collectors)
    fast.close(5.0)
    shipper.close(5.0)
    rss = psutil.Process().memory_info().rss
    out = {
        "cpu_share_at_10s_pct": 100.0 * (idle_share + per_tick_s / 10.0),
        "idle_cpu_share_pct": 100.0 * idle_share,
        "cpu_per_collection_ms": 1000.0 * per_tick_s,
        "collect_only_ms": 1000.0 * collect_s,
        "samples_per_collection": fast.stats.collected / ticks,
        "collections": ticks,
        "rss_mb": rss / 2**20,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "acked_samples": float(fast.stats.acked),
        "dropped_samples": float(fast.dropped),
    }
    print(json.dumps(out))


def _idle_share(shipper: Shipper, seconds: float) -> float:
    """CPU share of a shipper idle between collections, exactly as ``run`` waits (the slot is
    far ahead)."""
    c0, t0 = time.process_time(), time.monotonic()
    end = t0 + seconds
    while (left := end - time.monotonic()) > 0:
        shipper.service(min(left, 1.0))
    return (time.process_time() - c0) / (time.monotonic() - t0)


def _collect_only_s(collectors: Sequence[Collector], n: int = 200) -> float:
    """CPU seconds of one round of collection alone (no encode, no produce)."""
    c0 = time.process_time()
    for i in range(n):
        for c in collectors:
            c.collect(i, time.monotonic())
    return (time.process_time() - c0) / n
