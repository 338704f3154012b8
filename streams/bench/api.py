"""``GET /v1/components`` latency for a fleet of 10,000 components (``make bench``, section
``api``): the read model is filled as the feed would fill it (a risk score with forecasts,
health per metric, a lease on every tenth), the API runs under uvicorn on loopback in its own
process, and one keep-alive client asks for the whole list again and again. Target: p99 <= 50
ms.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from streams.api.app import create_app
from streams.api.live import NoWriter
from streams.api.model import ReadModel
from streams.runtime.broker import free_port

BASE_MS = 1_767_571_200_000


class _Held:
    """The model behind a lock, as :class:`streams.api.live.LiveModel` holds it."""

    def __init__(self, model: ReadModel) -> None:
        self.model, self.lock = model, threading.Lock()
        self.error: str | None = None
        self.stats = type("Stats", (), {"messages": 0, "undecodable": 0})()

    def read(self, fn: Callable[[ReadModel], Any]) -> Any:
        with self.lock:
            return fn(self.model)

    def alive(self) -> bool:
        return True


def fleet_model(n: int) -> ReadModel:
    m = ReadModel()
    for i in range(n):
        comp = f"host-{i // 10:04d}/svc-{i % 10}"
        ts = BASE_MS + (i % 60) * 1000
        m.apply("RiskScore", {
            "component": comp, "ts": ts, "risk": (i % 100) / 100, "anomaly": 0.1,
            "horizon_s": 900,
            "breach": {"metric": "cpu.util", "threshold": 0.95, "eta_s": 600.0,
                       "probability": 0.4} if i % 3 == 0 else None,
            "forecasts": [{"metric": "cpu.util", "horizon_s": h, "mean": 0.5, "lower": 0.4,
                           "upper": 0.6} for h in (300, 600, 900)],
            "contributors": {"cpu.util": 0.7, "mem.used_pct": 0.3},
            "model": {"version": "bench", "samples_seen": 1000, "warm": True,
                      "source": "component"}})
        for metric in ("cpu.util", "mem.used_pct"):
            m.apply("HealthSignal", {"component": comp, "ts": ts, "status": "PASS",
                                     "metric": metric, "value": 0.5, "threshold": None,
                                     "rule": metric, "heartbeat": True})
        if i % 10 == 0:
            m.apply("AllocationCommand", {
                "command_id": f"c{i}", "component": comp, "host": comp.split("/")[0], "ts": ts,
                "resource": "CPU_WEIGHT", "action": "GRANT", "amount": 200.0, "unit": "weight",
                "lease_s": 600, "reason": "bench", "risk": 0.8, "priority": 5})
    return m


def _serve(components: int, port: int) -> None:
    """The server's process: the model, the app, uvicorn (until terminated)."""
    app = create_app(_Held(fleet_model(components)), writer=NoWriter())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False,
                lifespan="off")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_api(seconds: float = 3.0, components: int = 10_000) -> dict[str, float]:
    """Latency of ``GET /v1/components`` (whole list) over HTTP for ``seconds``; the server
    runs in its own process, so the client's work is not counted in its CPU."""
    port = free_port()
    server = multiprocessing.get_context("fork").Process(
        target=_serve, args=(components, port), daemon=True)
    server.start()
    latencies: list[float] = []
    size = 0
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or not server.is_alive():
                    raise
                time.sleep(0.2)
        for _ in range(3):  # warm up: the first request encodes every component once
            conn.request("GET", "/v1/components")
            conn.getresponse().read()
        assert server.pid is not None
        cpu0 = _cpu_s(server.pid)
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(latencies) < 20:
            t0 = time.perf_counter()
            conn.request("GET", "/v1/components")
            resp = conn.getresponse()
            body = resp.read()
            latencies.append((time.perf_counter() - t0) * 1000)
            assert resp.status == 200
            size = len(body)
        cpu_s = _cpu_s(server.pid) - cpu0
        conn.close()
    finally:
        server.terminate()
        server.join(10)
    latencies.sort()
    return {
        "components": components, "requests": len(latencies), "bytes": size,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        # the server's CPU per request: what the wall-clock figures are made of on a machine
        # that is not shared
        "server_cpu_ms_per_request": cpu_s * 1000 / len(latencies),
    }


if __name__ == "__main__":
    print(bench_api())
