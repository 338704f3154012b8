"""Vector's metric events, as its ``kafka`` sink writes them with ``encoding.codec = "json"``
(or ``native_json``, which wraps the same object as ``{"metric": {...}}``)::

    {"name": "cpu_seconds_total", "namespace": "host",
     "tags": {"collector": "cpu", "cpu": "0", "host": "web-17", "mode": "idle"},
     "timestamp": "2024-05-01T12:00:15.000000011Z", "kind": "absolute",
     "counter": {"value": 812345.5}}

``kind`` is "absolute" (a counter's running total: rate) or "incremental" (a change over
``interval_ms``, or since the series' last event when that is absent). Values: ``counter``,
``gauge`` (incremental gauges are counted as unsupported), ``set`` (its size, as
``<name>.unique``), ``distribution`` (samples with rates: p99 and count), and
``aggregated_histogram`` / ``aggregated_summary`` (quantiles, count and sum rates); sketches
are unsupported. Histogram buckets are per bucket in current Vector and cumulative in old
releases; bucket counts that add up to more than ``count`` are taken as cumulative.
Multi-valued tags (``metric_tag_values = "full"``) keep their last value. Names are
``<namespace>.<name>``; host_metrics' names (namespace "host" or none) map to forewarn's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.ingest.base import BaseAdapter, Emit, Join, Point, clean_tags
from streams.ingest.common import (
    COUNTER,
    DELTA,
    GAUGE,
    load_items,
    rate_name,
    to_number,
    to_ts_ms,
)
from streams.ingest.hostrules import (
    Rule,
    cpu_mode,
    is_real_fs,
    latency_rule,
    mem_part,
    node_rules,
)

HOST_METRICS: Mapping[str, Rule] = {
    **node_rules(""),
    "cpu_seconds_total": lambda s: cpu_mode(s, "mode", "cpu") if "cpu" in s else None,
    "memory_available_bytes": mem_part("avail"),
    "memory_total_bytes": mem_part("total"),
    "filesystem_used_ratio": lambda s: (
        Join("fsu", s.get("mountpoint", ""), ("max", "disk.used_pct", 100.0))
        if is_real_fs(s.get("filesystem"), s.get("mountpoint")) else None
    ),
}
VALUE_SHAPES = ("counter", "gauge", "set", "distribution", "aggregated_histogram",
                "aggregated_summary", "sketch")


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    x = obj.get(key)
    return x if isinstance(x, list) else []


def sample_quantile(q: float, samples: list[tuple[float, float]]) -> float | None:
    """The q-quantile of (value, rate) samples: the least value with q of the weight at or
    below it."""
    samples = sorted(samples)
    total = sum(rate for _, rate in samples)
    if total <= 0:
        return None
    seen = 0.0
    for value, rate in samples:
        seen += rate
        if seen >= q * total:
            return value
    return samples[-1][0]


class VectorAdapter(BaseAdapter):
    """Vector metric JSON → MetricSample dicts (see the module docstring)."""

    fmt = "vector"

    def read(self, payload: bytes, recv_ts_ms: int | None) -> list[Point]:
        events = load_items(payload, self.fmt)
        whole = len(events) > 1
        return self.read_each(events, lambda ev: self._read_event(ev, recv_ts_ms, whole),
                              "events")

    def _metric(self, ev: Any) -> tuple[dict[str, Any], str, str, str]:
        """A metric event's object, full name, value shape and kind; an error saying what is
        wrong with anything else."""
        if isinstance(ev, dict) and isinstance(ev.get("metric"), dict):
            ev = ev["metric"]  # native_json
        if not isinstance(ev, dict):
            raise self.error(f"event is a JSON {type(ev).__name__}, expected an object")
        if "name" not in ev and ("log" in ev or "trace" in ev or "message" in ev):
            raise self.error("a Vector log or trace event, not a metric")
        name, ns = ev.get("name"), ev.get("namespace")
        if not isinstance(name, str) or not name:
            raise self.error('metric event has no "name"')
        full = f"{ns}.{name}" if isinstance(ns, str) and ns else name
        shape = next((s for s in VALUE_SHAPES if isinstance(ev.get(s), dict)), None)
        if shape is None:
            raise self.error(f"metric {full!r} has no value (one of {', '.join(VALUE_SHAPES)})")
        kind = ev.get("kind", "absolute")
        if kind not in ("absolute", "incremental"):
            raise self.error(f"metric {full!r}: kind {str(kind)[:20]!r} is not a Vector kind")
        return ev, full, shape, kind

    def _read_event(self, ev: Any, recv_ts_ms: int | None, whole: bool) -> list[Point]:
        ev, full, shape, kind = self._metric(ev)
        tags = clean_tags(ev.get("tags"))
        ts = to_ts_ms(ev.get("timestamp"), recv_ts_ms, self.fmt)
        ident, series = self.identify(tags)
        if ident is None:
            raise self.no_component(tags)
        interval = to_number(ev.get("interval_ms"))
        data = ev[shape]
        total = DELTA if kind == "incremental" else COUNTER  # how running totals read

        def point(n: str, raw: Any, k: int, s: dict[str, str] = series, role: str = "") -> Point:
            # one event holds all of a histogram's buckets
            return Point(ident, n, raw, ts, s, k, int(interval) if interval else None, None, "",
                         role, whole or role == "bucket")

        if shape == "counter":
            return [point(full, data.get("value"), total)]
        if shape == "gauge":
            if kind == "incremental":
                self.stats["unsupported"] += 1
                return []
            return [point(full, data.get("value"), GAUGE)]
        if shape == "set":
            values = data.get("values")
            return [point(f"{full}.unique", len(values) if isinstance(values, list) else None,
                          GAUGE)]
        if shape == "distribution":
            samples = [(to_number(s.get("value")), to_number(s.get("rate")))
                       for s in _list(data, "samples") if isinstance(s, dict)]
            good = [(float(v), float(r)) for v, r in samples if v is not None and r is not None]
            p99 = sample_quantile(0.99, good)
            return [point(full, p99, GAUGE, {**series, "quantile": "0.99"}, "quantile"),
                    point(f"{full}_count", sum(r for _, r in good), total)]
        if shape == "sketch":
            self.stats["unsupported"] += 1
            return []
        out = [point(f"{full}_count", data.get("count"), total),
               point(f"{full}_sum", data.get("sum"), total)]
        if shape == "aggregated_summary":
            for q in _list(data, "quantiles"):
                if isinstance(q, dict):
                    quantile = str(to_number(q.get("quantile")))
                    out.append(point(full, q.get("value"), GAUGE,
                                     {**series, "quantile": quantile}, "quantile"))
            return out
        for le, running in self._buckets(data):
            out.append(point(full, running, total, {**series, "le": le}, "bucket"))
        return out

    @staticmethod
    def _buckets(data: dict[str, Any]) -> list[tuple[str, float]]:
        raw = [(to_number(b.get("upper_limit")), to_number(b.get("count")))
               for b in _list(data, "buckets") if isinstance(b, dict)]
        buckets = sorted((float(u), float(c)) for u, c in raw if u is not None and c is not None)
        count = to_number(data.get("count"))
        if not buckets or count is None:
            return []
        cumulative = sum(c for _, c in buckets) > count
        out, running = [], 0.0
        for upper, c in buckets:
            running = c if cumulative else running + c
            out.append((repr(upper), running))
        out.append(("+Inf", float(count)))
        return out

    def map_point(
        self, name: str, series: Mapping[str, str], unit: str, role: str
    ) -> Emit | Join | None:
        if role:
            return latency_rule(name, series, unit, role)
        rule = HOST_METRICS.get(name[5:] if name.startswith("host.") else name)
        return rule(series) if rule is not None else None

    def base_name(self, name: str, kind: int) -> str:
        return rate_name(name, kind)
