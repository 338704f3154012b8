"""Serving the API: uvicorn in this thread (``forewarn api``) or in a background thread
(``forewarn run``, tests), with the topic feed and the writer around it."""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from schemas.errors import ConfigError
from streams.api.app import create_app
from streams.api.auth import Tokens, check_bind
from streams.api.live import LiveModel, TopicWriter
from streams.api.model import ReadModel
from streams.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ApiServer:
    """The API on ``host:port`` over ``settings``' topics; :meth:`start` runs it in a thread."""

    settings: Settings
    host: str = "127.0.0.1"
    port: int = 8080
    tokens: Tokens = Tokens()
    max_series: int = 500
    follow_metrics: bool = True
    also_export: tuple[Any, ...] = ()  # registries served on /metrics too

    def __post_init__(self) -> None:
        self.notice = check_bind(self.host, self.tokens)
        _check_port(self.host, self.port)
        rules = rule_thresholds(self.settings)
        self.live = LiveModel(self.settings, ReadModel(plotted=frozenset(rules)),
                              follow_metrics=self.follow_metrics)
        self.writer = TopicWriter(self.settings, self.live.codec)
        self.closing = threading.Event()
        self.app = create_app(self.live, self.writer, self.tokens, max_series=self.max_series,
                              thresholds=rules, also_export=self.also_export,
                              closing=self.closing)
        config = uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning",
                                access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self, timeout_s: float = 10.0) -> ApiServer:
        """Start the feed and the server in threads; return once it listens."""
        self.live.start()
        self._thread = threading.Thread(target=self.server.run, name="api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.live.stop()
                raise ConfigError(f"the API could not listen on {self.host}:{self.port}")
            time.sleep(0.02)
        return self

    def serve(self) -> None:
        """Run in this thread until SIGINT/SIGTERM (uvicorn's handlers)."""
        self.live.start()
        try:
            self.server.run()
        finally:
            self.close()

    def close(self) -> None:
        self.closing.set()  # event streams end: open browsers do not hold the shutdown
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(5)
        self.live.stop()
        self.writer.close()


def rule_thresholds(settings: Settings) -> dict[str, dict[str, Any]]:
    """metric -> {warn, fail, direction} of the health rules in force (the first per metric)."""
    from processors.health import default_rules, load_rules

    rules = load_rules(settings.health_rules) if settings.health_rules else default_rules()
    out: dict[str, dict[str, Any]] = {}
    for r in rules:
        out.setdefault(r.metric, {"warn": r.warn, "fail": r.fail, "direction": r.direction})
    return out


def _check_port(host: str, port: int) -> None:
    """One clear error for a port another process holds (uvicorn would log and exit)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror}; another process holds it? "
                "choose another with --port"
            ) from exc
