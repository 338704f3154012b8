"""prometheus-kafka-adapter's JSON: Prometheus ``remote_write``, one sample a message::

    {"timestamp": "2024-05-01T12:00:15Z", "value": "9876543210", "name": "node_load1",
     "labels": {"__name__": "node_load1", "instance": "web-17:9100", "job": "node"}}

Values are strings ("1.5", "NaN", "+Inf", "-Inf"); staleness markers and other non-finite
values are skipped (counted, not rejected). The timestamp is RFC 3339 text with whole
seconds. The adapter's first format (``__name__``/``__value__``/``__timestamp__`` at the top
level) is read too, as are several samples in one message (a JSON array, or one per line).

There are no metric types on the wire, so they follow Prometheus' naming conventions:
``*_total``, ``*_count``, ``*_sum`` and ``*_bucket{le=...}`` are cumulative counters (rates),
series with a ``quantile`` label are summary quantiles, the rest are gauges; add counter
names with ``counters=[...]``. Derived metrics whose series come in separate messages
(cpu.util over cores, mem.used_pct from MemAvailable and MemTotal, histogram quantiles) are
joined across messages per scrape (``counters.Joiner``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from streams.ingest.base import BaseAdapter, Emit, Join, Point, clean_tags
from streams.ingest.common import COUNTER, GAUGE, load_items, rate_name, to_ts_ms
from streams.ingest.component import ComponentRule
from streams.ingest.hostrules import (
    Rule,
    cpu_mode,
    disk_agg,
    fs_part,
    latency_rule,
    mem_part,
    node_rules,
)

NODE_EXPORTER: Mapping[str, Rule] = {
    **node_rules("node_"),
    "node_cpu_seconds_total": lambda s: cpu_mode(s, "mode", "cpu"),
    "node_memory_MemAvailable_bytes": mem_part("avail"),
    "node_memory_MemTotal_bytes": mem_part("total"),
    "node_disk_io_time_seconds_total": disk_agg("disk:io", ("max", "disk.io_util", 1.0)),
    "node_filesystem_avail_bytes": fs_part("avail"),
    "node_filesystem_size_bytes": fs_part("size"),
}


@lru_cache(maxsize=16384)
def classify(name: str, has_le: bool, has_quantile: bool) -> tuple[str, int, str]:
    """(series family name, kind, role) by Prometheus naming conventions."""
    if has_le and name.endswith("_bucket"):
        return name[:-7], COUNTER, "bucket"
    if has_quantile:
        return name, GAUGE, "quantile"
    if name.endswith(("_total", "_count", "_sum")):
        return name, COUNTER, ""
    return name, GAUGE, ""


class PrometheusAdapter(BaseAdapter):
    """prometheus-kafka-adapter JSON → MetricSample dicts (see the module docstring)."""

    fmt = "prometheus"

    def __init__(
        self, rule: ComponentRule | None = None, *, counters: Iterable[str] = (),
        **options: Any,
    ) -> None:
        super().__init__(rule, **options)
        self.counters_named = frozenset(counters)

    def read(self, payload: bytes, recv_ts_ms: int | None) -> list[Point]:
        items = load_items(payload, self.fmt)
        whole = len(items) > 1
        return self.read_each(items, lambda d: [self._read_sample(d, recv_ts_ms, whole)],
                              "samples")

    def _read_sample(self, d: Any, recv_ts_ms: int | None, whole: bool) -> Point:
        if not isinstance(d, dict):
            raise self.error(f"sample is a JSON {type(d).__name__}, expected an object")
        if "labels" in d or "value" in d:
            labels = clean_tags(d.get("labels"))
            name = d.get("name") or labels.get("__name__")
            if "value" not in d:
                raise self.error(f'sample {name!r} has no "value"')
            raw, ts_raw = d["value"], d.get("timestamp")
        elif "__name__" in d:  # the adapter's first format: labels at the top level
            labels = clean_tags({k: v for k, v in d.items() if not k.startswith("__")})
            name = d["__name__"]
            if "__value__" not in d:
                raise self.error(f'sample {name!r} has no "__value__"')
            raw, ts_raw = d["__value__"], d.get("__timestamp__")
        else:
            raise self.error('not a prometheus-kafka-adapter sample: no "labels" or "value"')
        if not isinstance(name, str) or not name:
            raise self.error("sample has no metric name")
        ts = to_ts_ms(ts_raw, recv_ts_ms, self.fmt)
        ident, series = self.identify(labels)
        if ident is None:
            raise self.no_component(labels)
        family, kind, role = classify(name, "le" in series, "quantile" in series)
        if name in self.counters_named:
            kind = COUNTER
        return Point(ident, family, raw, ts, series, kind, role=role, whole=whole)

    def map_point(
        self, name: str, series: Mapping[str, str], unit: str, role: str
    ) -> Emit | Join | None:
        if role:
            return latency_rule(name, series, unit, role)
        rule = NODE_EXPORTER.get(name)
        return rule(series) if rule is not None else None

    def base_name(self, name: str, kind: int) -> str:
        return rate_name(name, kind)
