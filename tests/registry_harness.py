"""Apicurio Registry for the tests: fetched from Maven Central by ``deploy/registry/pom.xml``,
run as one Java process on loopback, stopped by its PID.

Apicurio serves a Confluent-compatible Schema Registry API under ``/apis/ccompat/v7``, which is
what confluent-kafka's ``SchemaRegistryClient`` (so ``schemas/codec.py``'s ``confluent`` wire
format) speaks. Storage is its in-memory default: every start is empty.

:func:`unavailable` says why the registry cannot run here (no ``java``, no ``mvn``, or the
fetch failed), so tests skip with that reason instead of failing obscurely.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POM = ROOT / "deploy" / "registry" / "pom.xml"
APP_DIR = POM.parent / "target" / "apicurio"
HEAP = os.environ.get("FOREWARN_REGISTRY_HEAP", "384m")


def unavailable() -> str:
    """Why the registry cannot be started here; empty when it can."""
    if shutil.which("java") is None:
        return "Apicurio Registry not run: no `java` on PATH (install a JDK 17)"
    if _runner() is None and shutil.which("mvn") is None:
        return "Apicurio Registry not run: no `mvn` on PATH to fetch it (install Maven)"
    return ""


def fetch(timeout_s: float = 600.0) -> Path:
    """The runner jar, fetched with ``mvn`` first when absent; RuntimeError with Maven's last
    lines when the fetch fails (offline, no Maven Central)."""
    jar = _runner()
    if jar is not None:
        return jar
    proc = subprocess.run(
        ["mvn", "-q", "-B", "-f", str(POM), "process-resources"],
        capture_output=True, text=True, timeout=timeout_s,
    )
    jar = _runner()
    if proc.returncode != 0 or jar is None:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        raise RuntimeError(f"mvn could not fetch Apicurio Registry: {' | '.join(tail)}")
    return jar


def _runner() -> Path | None:
    found = sorted(APP_DIR.glob("apicurio-registry-app-*-runner.jar"))
    return found[-1] if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Registry:
    """One Apicurio Registry process; ``url`` is its Confluent-compatible API."""

    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/apis/ccompat/v7"
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 120.0) -> Registry:
        jar = fetch()
        log = open(self.log_path, "wb")  # noqa: SIM115 - owned by the process, closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            ["java", f"-Xmx{HEAP}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
             f"-Dquarkus.http.port={self.port}", "-Dquarkus.http.host=127.0.0.1",
             "-jar", str(jar)],
            stdout=log, stderr=subprocess.STDOUT, cwd=str(jar.parent),
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"Apicurio Registry exited with {self.proc.returncode}; "
                                   f"see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/subjects", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Apicurio Registry not ready in {timeout_s} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "_log", None) is not None:
            self._log.close()

    def __enter__(self) -> Registry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
