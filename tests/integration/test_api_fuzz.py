"""schemathesis over every endpoint of the committed OpenAPI document, against the API on the
real embedded broker, with data in the read model: no 5xx, responses match their schemas.

``/v1/events`` is a stream without end; test_api.py covers it (``?once=true``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.api.server import ApiServer
from streams.runtime.broker import free_port
from streams.settings import Settings
from tests.apiutil import ensure_topic, grant, health, outcome, produce, risk, wait_for

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from hypothesis import HealthCheck  # noqa: E402
from hypothesis import settings as hsettings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.integration
DOC = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
schema = schemathesis.openapi.from_dict(DOC).exclude(path="/v1/events")
T0 = 1_767_571_200_000


@pytest.fixture(scope="module")
def api_url(broker: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.conftest import fresh_settings

    s: Settings = fresh_settings(broker, tmp_path_factory.mktemp("fuzz"))  # type: ignore[arg-type]
    ensure_topic(s, "feedback")
    produce(s, [("risk", "RiskScore", risk("web-01", T0, 0.7)),
                ("risk", "RiskScore", risk("web-01/db", T0, 0.2, eta_s=None)),
                ("health", "HealthSignal", health("web-01", T0, "FAIL", 0.97)),
                ("allocations", "AllocationCommand", grant("web-01", T0, cid="c1")),
                ("outcomes", "AllocationOutcome", outcome("c1", "web-01", T0))])
    server = ApiServer(s, port=free_port()).start()
    try:
        wait_for(lambda: server.live.read(lambda m: len(m.components_) == 2))
        yield server.url.rstrip("/")
    finally:
        server.close()


@schema.parametrize()
@hsettings(max_examples=25, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                  HealthCheck.filter_too_much])
def test_no_server_errors(case: object, api_url: str) -> None:
    case.call_and_validate(  # type: ignore[attr-defined]
        base_url=api_url,
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance])
