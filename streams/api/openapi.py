"""The API's OpenAPI document, as committed in ``docs/openapi.json``.

    python -m streams.api.openapi > docs/openapi.json

``tests/unit/test_api_openapi.py`` fails when the committed document is not the current one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from streams.api.app import create_app
from streams.api.live import NoWriter
from streams.api.model import ReadModel


class _Idle:
    """A model with nothing in it: the document depends on the routes only."""

    stats = type("Stats", (), {"messages": 0, "undecodable": 0})()
    error: str | None = None

    def read(self, fn: Callable[[ReadModel], Any]) -> Any:
        return fn(ReadModel())

    def alive(self) -> bool:
        return False


def document() -> dict[str, Any]:
    return create_app(_Idle(), writer=NoWriter()).openapi()


def text() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(text())
