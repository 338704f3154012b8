"""Ingest adapters: the JSON that Telegraf, prometheus-kafka-adapter, the OpenTelemetry
collector and Vector write into Kafka, as forewarn MetricSample dicts.

Pure: no Kafka here. A consumer hands each message's bytes (and its receive time, used when
a message carries no timestamp) to ``parse`` and gets zero or more samples back, one per
component and timestamp, or an ``AdapterError`` to dead-letter.

>>> adapter = get_adapter("telegraf")
>>> [sample] = adapter.parse(b'{"fields":{"load1":0.5,"n_cpus":8},"name":"system",'
...                          b'"tags":{"host":"web-17"},"timestamp":1700000000}')
>>> sample["component"], sample["ts"], sample["metrics"]
('web-17', 1700000000000, {'load.1m': 0.5, 'system.n_cpus': 8.0})

Adapters keep state (counter last values, half-joined scrapes), so each series must reach
the same adapter instance in order; ``state()`` / ``load_state()`` checkpoint it and
``flush()`` emits what is still waiting at the end of a replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from streams.ingest.base import BaseAdapter
from streams.ingest.common import AdapterError
from streams.ingest.component import ComponentRule
from streams.ingest.otlp import OtlpJsonAdapter
from streams.ingest.prometheus import PrometheusAdapter
from streams.ingest.telegraf import TelegrafAdapter
from streams.ingest.vector import VectorAdapter

__all__ = [
    "FORMATS", "Adapter", "AdapterError", "ComponentRule", "OtlpJsonAdapter",
    "PrometheusAdapter", "TelegrafAdapter", "VectorAdapter", "get_adapter",
]


class Adapter(Protocol):
    """What a consumer of a foreign format needs from its adapter."""

    def parse(self, payload: bytes, recv_ts_ms: int | None = None) -> list[dict[str, Any]]:
        """MetricSample dicts for one message; raises AdapterError if it cannot be read."""
        ...

    def flush(self) -> list[dict[str, Any]]:
        """Samples still waiting for the rest of their scrape (end of a replay, shutdown)."""
        ...

    def state(self) -> dict[str, Any]:
        """JSON-ready state, for checkpoints."""
        ...

    def load_state(self, state: Mapping[str, Any]) -> None: ...


FORMATS: Mapping[str, type[BaseAdapter]] = {
    "telegraf": TelegrafAdapter,
    "prometheus": PrometheusAdapter,
    "otlp-json": OtlpJsonAdapter,
    "vector": VectorAdapter,
}
_ALIASES = {"otlp_json": "otlp-json", "otlp": "otlp-json",
            "prometheus-kafka-adapter": "prometheus"}


def get_adapter(format: str, rule: ComponentRule | None = None, **options: Any) -> Adapter:
    """A new adapter for ``format`` (telegraf, prometheus, otlp-json, vector).

    ``options`` go to the adapter: ``max_series``, ``join_tolerance_ms`` for all, and e.g.
    ``timestamp_units`` for Telegraf or ``counters`` for Prometheus.
    """
    name = _ALIASES.get(format.lower(), format.lower())
    try:
        cls = FORMATS[name]
    except KeyError:
        known = ", ".join(FORMATS)
        raise ValueError(f"unknown metrics format {format!r}; known: {known}") from None
    return cls(rule, **options)
