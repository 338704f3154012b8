"""The API's /metrics: the read model's gauges, and the registries of components sharing its
process (``forewarn run``: the actuator's), without a broker (the model is filled directly)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from streams.api.app import create_app
from streams.api.model import ReadModel
from streams.telemetry import ActuatorMetrics
from tests.apiutil import risk


class Held:
    stats = type("Stats", (), {"messages": 0, "undecodable": 0})()
    error = None

    def __init__(self, model: ReadModel) -> None:
        self.model = model

    def read(self, fn: Callable[[ReadModel], Any]) -> Any:
        return fn(self.model)

    def alive(self) -> bool:
        return True


def get(app: Any, path: str) -> tuple[int, str]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
             "root_path": ""}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body.decode()


def test_metrics_serve_gauges_capped_and_the_processes_other_registries() -> None:
    m = ReadModel()
    for i in range(5):
        m.apply("RiskScore", risk(f"web-{i}", 1_767_571_200_000, i / 10))
    actuator = ActuatorMetrics()
    actuator.risks.inc(3)
    app = create_app(Held(m), writer=None, max_series=2,  # type: ignore[arg-type]
                     also_export=[actuator.registry])
    status, text = get(app, "/metrics")
    assert status == 200
    series = [line for line in text.splitlines() if line.startswith("forewarn_component_risk{")]
    assert series == ['forewarn_component_risk{component="web-4"} 0.4',
                      'forewarn_component_risk{component="web-3"} 0.3']  # the riskiest 2
    assert "forewarn_components 5.0" in text and "forewarn_components_exported 2.0" in text
    assert "forewarn_actuator_risk_events_total 3.0" in text
