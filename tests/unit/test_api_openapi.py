"""The committed OpenAPI document is the one the API serves, and lists every endpoint."""

from __future__ import annotations

from pathlib import Path

from streams.api.openapi import document, text

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_document_is_current() -> None:
    assert DOC.read_text() == text(), (
        "docs/openapi.json is stale: python -m streams.api.openapi > docs/openapi.json")


def test_every_endpoint_is_documented() -> None:
    paths = document()["paths"]
    expected = {
        "/v1/components": {"get"}, "/v1/components/{component_id}/risk": {"get"},
        "/v1/allocations": {"get"}, "/v1/outcomes": {"get"}, "/v1/heatmap": {"get"},
        "/v1/preferences": {"get"}, "/v1/preferences/{selector}": {"get", "put", "delete"},
        "/v1/feedback": {"post"}, "/v1/events": {"get"}, "/healthz": {"get"},
        "/metrics": {"get"},
    }
    assert {p: set(ops) for p, ops in paths.items()} == expected
