"""Actuation latency: from a risk event on ``forewarn.risk`` to its command applied.

A benchmark, not a test (``python -m streams.bench actuation``): an embedded broker, one
:class:`~streams.runtime.actuator.Actuator` with a backend, and risk events produced at a steady
rate, each for a fresh component over the risk threshold, so each one causes exactly one GRANT. The
latency of a command is the wall time from its risk message's broker timestamp (CreateTime,
set when the risk was produced) to the backend's ``apply`` having returned — what
``Actuator.stats.latencies_ms`` records in production too.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import Producer

from actuators.backends.base import Backend
from actuators.backends.dryrun import DryRunBackend
from schemas.codec import Codec
from schemas.errors import BrokerError
from streams.runtime.actuator import Actuator
from streams.runtime.broker import EmbeddedBroker
from streams.settings import Settings
from streams.sim.examples import T0, risk_event
from streams.topics import ensure_topics, producer_config


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(settings: Settings, backend: Backend, n: int, rate: float,
            run: str) -> dict[str, float]:
    """Produce ``n`` risk events at ``rate``/s to a running actuator; latency percentiles.
    Components are ``bench-<run>-c<i>/app`` (``bench-<run>-warm0/app`` first)."""
    codec, topic = Codec(), settings.topic("risk")
    actuator = Actuator(settings.replace(actuator_group=f"bench-{run}"), backend)
    stop = threading.Event()
    thread = threading.Thread(target=actuator.run, args=(stop,), daemon=True)
    thread.start()
    producer = Producer(producer_config(settings))

    def send(i: int, tag: str) -> None:
        comp = f"bench-{run}-{tag}{i}/app"  # a host each: no pool fills up
        producer.produce(topic, key=comp.encode(), value=codec.encode(
            "RiskScore", risk_event(comp, T0 + i * 1000)))
        producer.poll(0)

    def wait(until: Callable[[], bool], what: str, limit_s: float = 60.0) -> None:
        deadline = time.monotonic() + limit_s
        while not until():
            if time.monotonic() > deadline or not thread.is_alive():
                raise BrokerError(f"actuation bench: {what} did not happen in {limit_s:.0f} s "
                                  f"({actuator.stats})")
            time.sleep(0.01)

    try:
        send(0, "warm")  # the group join takes seconds: not part of the latency
        producer.flush(10)
        wait(lambda: actuator.stats.commands >= 1, "the warm-up command")
        actuator.stats.latencies_ms.clear()
        start = time.monotonic()
        for i in range(n):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            send(i, "c")
        producer.flush(10)
        # every risk read; a few get no command (the engine's holdout keeps labels honest)
        wait(lambda: actuator.stats.risks >= n + 1, f"{n} risk events read")
        wait(lambda: actuator.stats.outcomes >= n + 1, f"{n} outcomes")
        lat = list(actuator.stats.latencies_ms)
    finally:
        stop.set()
        thread.join(30)
        actuator.close()
    return {"p50_ms": statistics.median(lat), "p99_ms": _percentile(lat, 0.99),
            "max_ms": max(lat), "commands": float(len(lat))}


def linux_backend(root: Path, run: str, n: int) -> Backend:
    """The Linux host agent on a directory tree in cgroup v2's file protocol, one cgroup per
    benchmark component (``cpu.weight`` at the default 100): real file writes per command."""
    from actuators.backends.linux import LinuxBackend

    for name in ("warm0", *(f"c{i}" for i in range(n))):
        cg = root / "forewarn.slice" / f"bench-{run}-{name}"
        cg.mkdir(parents=True)
        (cg / "cpu.weight").write_text("100\n")
        (cg / "cpu.max").write_text("100000 100000\n")
    return LinuxBackend.from_options(
        {"cgroup_root": str(root), "cgroups": {"*/*": "forewarn.slice/{host}"}},
        hosts=(f"bench-{run}-*",))


def bench_actuation(seconds: float = 3.0, rate: float = 100.0) -> dict[str, float]:
    """One run on one broker, side by side: the dry-run backend, then the Linux host agent on
    a cgroup-format directory tree; ``rate`` risk events a second for ``seconds`` each."""
    n = int(seconds * rate)
    out: dict[str, float] = {}
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        for name in ("dryrun", "linux"):
            run = uuid.uuid4().hex[:6]  # fresh topics: one run never reads the other's risk
            settings = Settings.load(env={}, bootstrap_servers=broker.bootstrap_servers,
                                     data_dir=tmp, topic_prefix=f"b{run}.")
            ensure_topics(settings)
            backend = (DryRunBackend() if name == "dryrun"
                       else linux_backend(Path(tmp) / "cgroup", run, n))
            for key, value in measure(settings, backend, n, rate, run).items():
                out[f"{name}_{key}"] = value
    return out


if __name__ == "__main__":
    print(bench_actuation())
