"""The OpenTelemetry collector's Kafka exporter with ``encoding: otlp_json``.

A message is one OTLP ``MetricsData`` in protobuf's JSON mapping::

    {"resourceMetrics": [{"resource": {"attributes": [
        {"key": "host.name", "value": {"stringValue": "web-17"}}]},
      "scopeMetrics": [{"metrics": [{"name": "system.cpu.time", "unit": "s",
        "sum": {"aggregationTemporality": 2, "isMonotonic": true, "dataPoints": [
          {"attributes": [...], "startTimeUnixNano": "...", "timeUnixNano": "...",
           "asDouble": 1234.5}]}}]}]}]}

64-bit integers are strings (``asInt``, ``timeUnixNano``, histogram ``count`` and
``bucketCounts``); enums are numbers or their names. Gauges are values; a monotonic
cumulative Sum is a counter (rate, with ``startTimeUnixNano`` changes as resets), a DELTA one
is divided by its interval, a non-monotonic cumulative one (an UpDownCounter) is a value.
Histograms and summaries give quantiles (latency.p99_ms for request durations, else
``<name>.p99``) and their count/sum rates; exponential histograms only count/sum.
Resource attributes name the component and become the sample's tags; data point attributes
tell series apart. A message carries whole scrapes, so joins settle at its end.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, cast

from streams.ingest.base import BaseAdapter, Emit, Ident, Join, Point
from streams.ingest.common import (
    COUNTER,
    DELTA,
    GAUGE,
    epoch_to_ms,
    load_documents,
    time_scale_ms,
    to_number,
    to_ts_ms,
)
from streams.ingest.hostrules import (
    Rule,
    is_real_fs,
    is_virtual_iface,
    is_whole_disk,
    latency_rule,
)

_DELTA_NAMES = (1, "1", "AGGREGATION_TEMPORALITY_DELTA")
_CPU_MODES = {"wait": "iowait", "interrupt": "irq"}
# default units of semantic-convention durations that arrive without one
_DURATION_UNITS = {"http.server.request.duration": "s", "http.server.duration": "ms",
                   "rpc.server.duration": "ms", "http.client.request.duration": "s"}
_MEM_STATES = frozenset({"used", "free", "buffered", "cached", "slab_reclaimable", "inactive"})


def _get(series: Mapping[str, str], *keys: str) -> str:
    """An attribute under its current or earlier semantic-convention name."""
    for key in keys:
        v = series.get(key)
        if v is not None:
            return v
    return ""


def _cpu(prefix: str) -> Rule:
    def rule(s: Mapping[str, str]) -> Join | None:
        mode = _get(s, "state", "cpu.mode", "system.cpu.state")
        if not mode:
            return None
        mode = _CPU_MODES.get(mode, mode)
        cpu = _get(s, "cpu", "cpu.logical_number", "system.cpu.logical_number")
        return Join(f"{prefix}:{mode}", cpu, ("cpu", mode))
    return rule


def _io(kind: str, targets: Mapping[str, str]) -> Rule:
    def rule(s: Mapping[str, str]) -> Join | None:
        direction = _get(s, "direction", "network.io.direction", "disk.io.direction")
        dev = _get(s, "device", "system.device", "network.interface.name")
        target = targets.get(direction)
        if target is None:
            return None
        usable = not is_virtual_iface(dev) if kind == "net" else is_whole_disk(dev)
        return Join(f"{kind}:{direction}", dev, ("sum", target)) if usable else None
    return rule


def _fs(s: Mapping[str, str], util: bool) -> Join | None:
    mp = _get(s, "mountpoint", "system.filesystem.mountpoint")
    if not is_real_fs(_get(s, "type", "system.filesystem.type") or None, mp):
        return None
    if util:
        return Join("fsu", mp, ("max", "disk.used_pct", 100.0))
    state = _get(s, "state", "system.filesystem.state")
    if state not in ("used", "free"):
        return None
    return Join("fs", (mp, state), ("fs_pct", "disk.used_pct"))


def _mem_usage(s: Mapping[str, str]) -> Join | None:
    state = _get(s, "state", "system.memory.state")
    if state not in _MEM_STATES:
        return None
    return Join("memu", state, ("share_pct", "used", "mem.used_pct"))


HOSTMETRICS: Mapping[str, Rule] = {
    "system.cpu.utilization": _cpu("cpuu"),
    "system.cpu.time": _cpu("cput"),
    "system.memory.utilization": lambda s: (
        Emit("mem.used_pct", 100.0) if _get(s, "state", "system.memory.state") == "used" else None
    ),
    "system.memory.usage": _mem_usage,
    "system.cpu.load_average.1m": lambda s: Emit("load.1m"),
    "system.cpu.load_average.5m": lambda s: Emit("load.5m"),
    "system.cpu.load_average.15m": lambda s: Emit("load.15m"),
    "system.network.io": _io("net", {"receive": "net.rx_bytes_s", "transmit": "net.tx_bytes_s"}),
    "system.disk.io": _io("disk", {"read": "disk.read_bytes_s", "write": "disk.write_bytes_s"}),
    "system.disk.io_time": lambda s: (
        Join("disk:io", _get(s, "device", "system.device"), ("max", "disk.io_util", 1.0))
        if is_whole_disk(_get(s, "device", "system.device")) else None
    ),
    "system.filesystem.utilization": lambda s: _fs(s, util=True),
    "system.filesystem.usage": lambda s: _fs(s, util=False),
}


def attributes(kvs: Any) -> dict[str, str]:
    """OTLP KeyValue list → string dict (scalars as text; arrays and maps left out)."""
    out: dict[str, str] = {}
    if type(kvs) is not list:
        return out
    for kv in kvs:
        if type(kv) is not dict:
            continue
        key, value = kv.get("key"), kv.get("value")
        if type(key) is not str or type(value) is not dict:
            continue
        x = value.get("stringValue")
        if type(x) is str:
            out[key] = x
            continue
        for t in ("intValue", "doubleValue", "boolValue"):
            if t in value:
                x = value[t]
                if isinstance(x, bool):
                    out[key] = "true" if x else "false"
                elif isinstance(x, str | int | float):
                    out[key] = str(x)
                break
    return out


@lru_cache(maxsize=4096)
def _time_ms(raw: str | int) -> int | None:
    x = to_number(raw)
    return epoch_to_ms(int(x), "ns") if x else None


def _ns_ms(raw: Any) -> int | None:
    return _time_ms(raw) if type(raw) is str or type(raw) is int else None


def _cumulative_buckets(dp: dict[str, Any]) -> list[tuple[str, int | float]] | None:
    """OTLP explicit buckets (per-bucket counts, one more than bounds) as (le, cumulative);
    None when they do not fit together."""
    bounds = [to_number(b) for b in _list(dp, "explicitBounds")]
    counts = [to_number(c) for c in _list(dp, "bucketCounts")]
    if not counts:
        return []
    if len(counts) != len(bounds) + 1 or any(x is None for x in (*bounds, *counts)):
        return None
    edges = cast("list[int | float]", bounds)  # no None in either: checked above
    out: list[tuple[str, int | float]] = []
    running: int | float = 0
    for i, c in enumerate(cast("list[int | float]", counts)):
        running += c
        out.append((repr(float(edges[i])) if i < len(edges) else "+Inf", running))
    return out


def _list(obj: Any, key: str) -> list[Any]:
    x = obj.get(key) if isinstance(obj, dict) else None
    return x if isinstance(x, list) else []


class OtlpJsonAdapter(BaseAdapter):
    """OTLP JSON metrics → MetricSample dicts (see the module docstring)."""

    fmt = "otlp-json"

    def read(self, payload: bytes, recv_ts_ms: int | None) -> list[Point]:
        resources: list[Any] = []
        for doc in load_documents(payload, self.fmt):
            rms = doc.get("resourceMetrics", doc.get("resource_metrics")) if isinstance(
                doc, dict) else None
            if not isinstance(rms, list):
                raise self.error('no "resourceMetrics" array: not OTLP JSON metrics')
            resources.extend(rms)
        return self.read_each(resources, lambda rm: self._read_resource(rm, recv_ts_ms),
                              "resources")

    def _read_resource(self, rm: Any, recv_ts_ms: int | None) -> list[Point]:
        if not isinstance(rm, dict):
            raise self.error(f"resourceMetrics item is a JSON {type(rm).__name__}")
        res = rm.get("resource")
        attrs = attributes(res.get("attributes") if isinstance(res, dict) else None)
        ident = self.ident(attrs, all_tags=True)
        if ident is None:
            raise self.no_component(attrs)
        out: list[Point] = []
        scopes = _list(rm, "scopeMetrics") or _list(rm, "instrumentationLibraryMetrics")
        for sm in scopes:
            for m in _list(sm, "metrics"):
                name = m.get("name") if isinstance(m, dict) else None
                if not isinstance(name, str) or not name:
                    self.stats["skipped_points"] += 1
                    continue
                unit = m.get("unit")
                self._read_metric(ident, name, unit if isinstance(unit, str) else "", m,
                                  recv_ts_ms, out)
        return out

    def _read_metric(
        self, ident: Ident, name: str, unit: str, m: dict[str, Any], recv_ts_ms: int | None,
        out: list[Point],
    ) -> None:
        for shape in ("gauge", "sum", "histogram", "summary", "exponentialHistogram"):
            data = m.get(shape)
            if isinstance(data, dict):
                break
        else:
            self.stats["unsupported"] += 1
            return
        delta = data.get("aggregationTemporality") in _DELTA_NAMES
        if shape == "gauge":
            kind = GAUGE
        elif shape == "sum":
            monotonic = data.get("isMonotonic") is True
            kind = DELTA if delta else COUNTER if monotonic else GAUGE
        else:
            kind = DELTA if delta else COUNTER
        for dp in _list(data, "dataPoints"):
            if not isinstance(dp, dict):
                self.stats["skipped_points"] += 1
                continue
            raw_ts = dp.get("timeUnixNano")
            ts = _ns_ms(raw_ts) or to_ts_ms(raw_ts, recv_ts_ms, self.fmt, "ns")
            start = _ns_ms(dp.get("startTimeUnixNano"))
            interval = ts - start if start is not None and ts > start else None
            series = attributes(dp.get("attributes"))
            if shape in ("gauge", "sum"):
                raw = dp["asDouble"] if "asDouble" in dp else dp.get("asInt")
                out.append(Point(ident, name, raw, ts, series, kind, interval, start, unit,
                                 whole=True))
                continue
            parts = [(f"{name}.count", dp.get("count"), kind, series, "")]
            if "sum" in dp:
                parts.append((f"{name}.sum", dp["sum"], kind, series, ""))
            if shape == "histogram":
                buckets = _cumulative_buckets(dp)
                if buckets is None:
                    self.stats["skipped_points"] += 1
                parts += [(name, c, kind, {**series, "le": le}, "bucket")
                          for le, c in buckets or ()]
            elif shape == "summary":
                parts += [(name, qv.get("value"), GAUGE,
                           {**series, "quantile": str(to_number(qv.get("quantile", 0)))},
                           "quantile")
                          for qv in _list(dp, "quantileValues") if isinstance(qv, dict)]
            else:
                self.stats["unsupported"] += 1  # exponential buckets: count and sum only
            out.extend(Point(ident, n, raw, ts, s, k, interval, start, unit, role, True)
                       for n, raw, k, s, role in parts)

    def map_point(
        self, name: str, series: Mapping[str, str], unit: str, role: str
    ) -> Emit | Join | None:
        if role:
            if not unit and name in _DURATION_UNITS:
                unit = _DURATION_UNITS[name]
            return latency_rule(name, series, unit, role) if time_scale_ms(unit, name) else None
        rule = HOSTMETRICS.get(name)
        return rule(series) if rule is not None else None

