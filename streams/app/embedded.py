"""``forewarn run``: the embedded default, everything on one machine.

It starts Tansu (memory only) on a free loopback port, creates the topics, starts a processor
worker (a child process), publishes a simulated fleet in accelerated event time, ships this
machine's own metrics (real time, every 10 s), runs the actuator with the simulator backend
(so allocations change the simulated hosts; this machine is only watched), serves the API and
the dashboard, and shows risk and allocations live until Ctrl-C (or ``--duration``). Logs go
to ``.forewarn/``.

Stopping: the broker and the worker run in their own process groups, so Ctrl-C reaches this
process only; it stops the fleet, the actuator, the shipper, the API and the worker, and the
broker last, with librdkafka's logging off from then on, and says "stopped" once.
"""

from __future__ import annotations

import faulthandler
import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path
from typing import IO, Any

from actuators.backends.simulator import SimulatorBackend
from schemas.errors import ConfigError
from streams.api.server import ApiServer
from streams.app.liveview import ViewInfo, render, screen
from streams.runtime.actuator import Actuator
from streams.runtime.broker import EmbeddedBroker, free_port
from streams.settings import Settings
from streams.ship.collect import HostCollector
from streams.ship.shipper import Shipper
from streams.sim.publish import FleetPublisher
from streams.sim.simulator import Fleet, scenario
from streams.topics import ensure_topics

WORKER_GRACE_S = 1.0  # the broker is memory-only: nothing of the worker's outlives the run
THREAD_GRACE_S = 10.0  # each loop checks `stop` at least every second; more is a loaded machine


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
        start_new_session=True,  # Ctrl-C is ours to hand on, in order
    )
    return proc, fh


def _api(settings: Settings, actuator: Actuator) -> ApiServer:
    """The API on its configured port, or a free one when that is taken; its /metrics serves
    the actuator's metrics too (the worker, a child process, exports on FOREWARN_METRICS_PORT
    when that is set)."""
    from streams.api.auth import parse_tokens

    tokens = parse_tokens(settings.api_tokens)
    extra = (actuator.metrics.registry,)
    try:
        return ApiServer(settings, host=settings.api_host, port=settings.api_port, tokens=tokens,
                         also_export=extra)
    except ConfigError:
        return ApiServer(settings, host=settings.api_host, port=free_port(), tokens=tokens,
                         also_export=extra)


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
    # Ctrl-C must stop it even when the parent ignored SIGINT (a shell's background job, a
    # test runner's worker): Python leaves an inherited SIG_IGN in place, so set ours
    signal.signal(signal.SIGINT, signal.default_int_handler)
    fleet = Fleet(_scenario(scenario, seed))
    # librdkafka logs from its own threads to fd 2; under a full-screen view its reconnect
    # chatter (and at shutdown, clients losing the broker) goes to clients.log instead, while
    # Python's own messages keep the terminal
    terminal = _quiet_librdkafka(data / "clients.log")
    sys.stderr = terminal
    # `kill -USR1 <pid>` prints every thread's stack to the terminal: a stop that hangs says where
    faulthandler.register(signal.SIGUSR1, file=terminal, all_threads=True)
    broker = EmbeddedBroker(log_path=data / "tansu.log").start()
    parts: dict[str, Any] = {}
    code = 0
    try:
        s = _start(settings, broker, fleet, stop, speed, host_interval_s, data, parts)
        print(f"forewarn run: dashboard {parts['api'].url} · broker "
              f"{broker.bootstrap_servers}", flush=True)
        code = _watch(s, parts["api"], parts["worker"], parts["threads"][0], fleet, stop,
                      started, scenario, duration_s, parts["this_host"], data)
    except KeyboardInterrupt:  # Ctrl-C is the normal way to end `make run`
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C cannot cut it short
        stop.set()
        try:
            _shutdown(parts, broker, data / "shutdown.log")
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        print(f"\nforewarn stopped ({time.monotonic() - started:.1f} s after start)",
              file=terminal, flush=True)
    return code


def _start(settings: Settings, broker: EmbeddedBroker, fleet: Fleet, stop: threading.Event,
           speed: float, host_interval_s: float, data: Path, parts: dict[str, Any]
           ) -> Settings:
    """Start the worker, fleet, actuator, shipper and API; each goes into ``parts`` as soon as
    it exists (the only reference kept, so shutdown can drop them before the broker)."""
    # The actuator owns the simulated hosts only: this machine is watched, not actuated
    # (and its samples are in wall-clock time, the fleet's in simulated time).
    sim_hosts = sorted({c["host"] for c in fleet.step()})
    deps = ",".join(f"{c.id}={d}" for c in fleet.scenario.components for d in c.depends_on)
    s = settings.replace(bootstrap_servers=broker.bootstrap_servers, backend="simulator",
                         owned=",".join(sim_hosts), dependencies=deps)
    ensure_topics(s)
    parts["worker"], parts["worker_log"] = _spawn_worker(s, data / "worker.log")
    lock = threading.Lock()
    parts["publisher"] = FleetPublisher(s, fleet, speed=speed, lock=lock)
    # the broker and the fleet start afresh each time: so does the engine
    parts["actuator"] = Actuator(s, SimulatorBackend(fleet, lock), persist=False)
    parts["this_host"] = socket.gethostname()
    parts["shipper"] = Shipper(s, [HostCollector(parts["this_host"])],
                               interval_s=host_interval_s)
    parts["api"] = _api(s, parts["actuator"]).start()
    parts["threads"] = [
        threading.Thread(target=parts[name].run, args=(stop,), name=name, daemon=True)
        for name in ("publisher", "actuator", "shipper")
    ]
    for t in parts["threads"]:
        t.start()
    return s


def _watch(s: Settings, api: ApiServer, worker: subprocess.Popen[bytes],
           fleet_thread: threading.Thread, fleet: Fleet, stop: threading.Event,
           started: float, scenario_name: str, duration_s: float, this_host: str,
           data: Path) -> int:
    """Draw the live view until Ctrl-C, ``duration_s`` or the worker's exit."""
    tty = sys.stdout.isatty()
    first_risk_s: float | None = None
    ended_ms: int | None = None
    while not stop.is_set():
        now = time.monotonic()
        if first_risk_s is None and api.live.read(lambda m: m.risks_.total):
            first_risk_s = now - started
        if ended_ms is None and not fleet_thread.is_alive() and fleet.done():
            ended_ms = fleet.now_ms()
        info = ViewInfo(broker=s.bootstrap_servers, dashboard=api.url, elapsed_s=now - started,
                        scenario=scenario_name, ended_ms=ended_ms, this_host=this_host,
                        first_risk_s=first_risk_s)
        width = shutil.get_terminal_size((160, 40)).columns
        lines = api.live.read(partial(render, info=info, width=width))
        sys.stdout.write(screen(lines, tty))
        sys.stdout.flush()
        if worker.poll() is not None:
            print(f"forewarn: the worker exited ({worker.returncode}); see "
                  f"{data / 'worker.log'}", file=sys.stderr)
            return 1
        if duration_s and now - started >= duration_s:
            return 0
        stop.wait(1.0 if tty else 5.0)
    return 0


def _shutdown(parts: dict[str, Any], broker: EmbeddedBroker, log: Path) -> None:
    """Everything in order, the broker last."""
    t0 = time.monotonic()
    marks = []
    stuck = set()
    for t in parts.get("threads", []):
        t.join(THREAD_GRACE_S)
        if t.is_alive():  # its clients stay open: closing them under it could deadlock
            stuck.add(t.name)
        marks.append((t.name + (" (still running)" if t.is_alive() else ""),
                      time.monotonic() - t0))
    for name in ("api", "actuator", "shipper"):
        part = parts.get(name)
        if part is not None and name not in stuck:
            part.close()
            marks.append((name, time.monotonic() - t0))
    worker = parts.get("worker")
    if worker is not None and worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(WORKER_GRACE_S)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)
    if parts.get("worker_log") is not None:
        parts["worker_log"].close()
    marks.append(("worker", time.monotonic() - t0))
    parts.clear()  # the last references to the producers: destroyed before the broker goes
    gc.collect()
    marks.append(("gc", time.monotonic() - t0))
    broker.stop(timeout_s=0.5)  # memory only: nothing to lose by a kill after that
    marks.append(("broker", time.monotonic() - t0))
    with open(log, "w") as fh:  # where the seconds went
        print("shutdown:", " ".join(f"{n} {t:.2f}s" for n, t in marks), file=fh)


def _quiet_librdkafka(log: Path) -> IO[str]:
    """fd 2 goes to ``log`` until the process exits (librdkafka writes there from its own
    threads, handles destroyed at exit included); returns the terminal's stderr."""
    sys.stderr.flush()
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError:
        return sys.stderr
    saved = os.dup(2)
    os.dup2(fd, 2)
    os.close(fd)
    return os.fdopen(saved, "w", buffering=1)


def _scenario(name: str, seed: int) -> Any:
    return scenario(name, seed=seed)
