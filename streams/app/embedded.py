"""``forewarn run``: the embedded default, everything on one machine.

It starts Tansu (memory only) on a free loopback port, creates the topics, starts a processor
worker (a child process), publishes a simulated fleet in accelerated event time, ships this
machine's own metrics (real time, every 10 s), runs the actuator with the simulator backend
(so allocations change the simulated hosts; this machine is only watched), and shows risk and
allocations live until Ctrl-C (or ``--duration``). Logs go to ``.forewarn/``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from confluent_kafka import Consumer, TopicPartition

from actuators.backends.simulator import SimulatorBackend
from schemas.codec import Codec
from streams.runtime.actuator import Actuator
from streams.runtime.broker import EmbeddedBroker
from streams.settings import Settings
from streams.ship.collect import HostCollector
from streams.ship.shipper import Shipper
from streams.sim.publish import FleetPublisher
from streams.sim.simulator import Fleet, scenario
from streams.topics import consumer_config, ensure_topics

CLEAR = "\x1b[H\x1b[2J"


@dataclass
class LiveView:
    """Reads risk, allocations and outcomes from the start and draws them."""

    settings: Settings
    started: float
    risk: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    first_risk_s: float | None = None

    def __post_init__(self) -> None:
        self.codec = Codec()
        self.consumer = Consumer(consumer_config(self.settings, "forewarn-live-view"))
        parts = []
        for name in ("risk", "allocations", "outcomes"):
            topic = self.settings.topic(name)
            meta = self.consumer.list_topics(topic, timeout=10).topics[topic]
            parts += [TopicPartition(topic, p, 0) for p in meta.partitions]
        self.consumer.assign(parts)

    def poll(self, timeout_s: float) -> None:
        for msg in self.consumer.consume(1000, timeout_s):
            if msg.error():
                continue
            try:
                kind, rec = self.codec.decode(msg.value())
            except Exception:  # the view only shows; the dead-letter path is the worker's
                continue
            if kind == "RiskScore":
                self.risk[rec["component"]] = rec
                if self.first_risk_s is None:
                    self.first_risk_s = time.monotonic() - self.started
            elif kind == "AllocationCommand":
                self.events.append(
                    f"{_hhmm(rec['ts'])} {rec['action']:7} {rec['resource']:12} "
                    f"{rec['amount']:>8g} {rec['unit']:6} → {rec['component']:14} "
                    f"risk {rec['risk']:.2f}  {rec['reason'][:60]}"
                )
            elif kind == "AllocationOutcome":
                self.events.append(
                    f"{_hhmm(rec['ts'])} {rec['status']:9} by {rec['backend']:9} "
                    f"{rec['component']:14} {rec['detail'][:70]}"
                )
        del self.events[:-12]

    def render(self, out: IO[str], tty: bool) -> None:
        lines = [
            f"forewarn — embedded broker {self.settings.bootstrap_servers} · "
            f"{time.monotonic() - self.started:5.0f} s"
            + (f" · first risk after {self.first_risk_s:.1f} s" if self.first_risk_s else ""),
            "",
            f"{'component':16} {'event time':>10} {'risk':>5}  {'':20} {'anom':>5}  "
            f"{'breach forecast':28} model",
        ]
        for comp in sorted(self.risk):
            r = self.risk[comp]
            bar = "█" * int(round(r["risk"] * 20))
            b = r["breach"]
            breach = (
                f"{b['metric']} in {b['eta_s'] / 60:4.1f} min p={b['probability']:.2f}"
                if b else "-"
            )
            model = r["model"]
            lines.append(
                f"{comp:16} {_hhmm(r['ts']):>10} {r['risk']:5.2f}  {bar:20} {r['anomaly']:5.2f}  "
                f"{breach:28} {'warm' if model['warm'] else 'cold'}/{model['source']}"
            )
        lines += ["", "allocations and outcomes (latest last):"] + (self.events or ["  (none yet)"])
        text = "\n".join(lines)
        out.write((CLEAR + text + "\n") if tty else (text + "\n\n"))
        out.flush()

    def close(self) -> None:
        self.consumer.close()


def _hhmm(ts_ms: int) -> str:
    return time.strftime("%d %H:%M", time.gmtime(ts_ms / 1000))


def _spawn_worker(settings: Settings, log: Path) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    env = {**os.environ}
    for key, value in (
        ("BOOTSTRAP_SERVERS", settings.bootstrap_servers),
        ("TOPIC_PREFIX", settings.topic_prefix),
        ("DATA_DIR", settings.data_dir),
        ("DEPENDENCIES", settings.dependencies),
    ):
        env[f"FOREWARN_{key}"] = value
    fh = open(log, "wb")  # noqa: SIM115 - closed by the caller
    proc = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "worker", "--loglevel", "warning"],
        env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    return proc, fh


def run_embedded(
    settings: Settings,
    *,
    scenario: str,
    speed: float,
    duration_s: float,
    seed: int,
    host_interval_s: float = 10.0,
) -> int:
    started = time.monotonic()
    data = Path(settings.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with EmbeddedBroker(log_path=data / "tansu.log") as broker:
        fleet = Fleet(_scenario(scenario, seed))
        # The actuator owns the simulated hosts only: this machine is watched, not actuated
        # (and its samples are in wall-clock time, the fleet's in simulated time).
        sim_hosts = sorted({c["host"] for c in fleet.step()})
        deps = ",".join(f"{c.id}={d}" for c in fleet.scenario.components for d in c.depends_on)
        s = settings.replace(bootstrap_servers=broker.bootstrap_servers, backend="simulator",
                             owned=",".join(sim_hosts), dependencies=deps)
        ensure_topics(s)
        worker, worker_log = _spawn_worker(s, data / "worker.log")
        lock = threading.Lock()
        publisher = FleetPublisher(s, fleet, speed=speed, lock=lock)
        # the broker and the fleet start afresh each time: so does the engine
        actuator = Actuator(s, SimulatorBackend(fleet, lock), persist=False)
        shipper = Shipper(s, [HostCollector(socket.gethostname())], interval_s=host_interval_s)
        threads = [
            threading.Thread(target=publisher.run, args=(stop,), name="fleet", daemon=True),
            threading.Thread(target=actuator.run, args=(stop,), name="actuator", daemon=True),
            threading.Thread(target=shipper.run, args=(stop,), name="shipper", daemon=True),
        ]
        for t in threads:
            t.start()
        view = LiveView(s, started)
        tty = sys.stdout.isatty()
        next_draw = 0.0
        try:
            while not stop.is_set():
                view.poll(0.2)
                now = time.monotonic()
                if now >= next_draw:
                    view.render(sys.stdout, tty)
                    next_draw = now + (1.0 if tty else 5.0)
                if worker.poll() is not None:
                    print(f"worker exited ({worker.returncode}); see {data / 'worker.log'}")
                    return 1
                if duration_s and now - started >= duration_s:
                    break
        except KeyboardInterrupt:  # Ctrl-C is the normal way to end `make run`
            print("\nstopping: fleet, actuator, worker and broker", file=sys.stderr)
        finally:
            stop.set()
            for t in threads:
                t.join(10)
            actuator.close()
            shipper.close()
            view.close()
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
            worker_log.close()
        if view.first_risk_s is not None:
            print(f"first risk event on screen {view.first_risk_s:.1f} s after start")
    return 0


def _scenario(name: str, seed: int) -> Any:
    return scenario(name, seed=seed)
