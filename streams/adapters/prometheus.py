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
joined across messages per scrape (``common.Joiner``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from streams.adapters.common import (
    COUNTER,
    GAUGE,
    AdapterError,
    BaseAdapter,
    ComponentRule,
    Emit,
    Join,
    Point,
    clean_tags,
    is_real_fs,
    is_virtual_iface,
    is_whole_disk,
    load_documents,
    norm_name,
    quantile_name,
    series_key,
    time_scale_ms,
    to_ts_ms,
)

LATENCY = re.compile(
    r"(request|requests|server|rpc|response)[._](duration|latency)|http[._]server[._]requests"
)
_MEM = frozenset({"avail", "total"})
_MEM_SPEC = ("used_pct", "avail", "total", "mem.used_pct")
_CPU_MODES = {"io_wait": "iowait", "wait": "iowait", "interrupt": "irq"}

Rule = Callable[[Mapping[str, str]], Emit | Join | None]


def cpu_mode(series: Mapping[str, str], mode_tag: str, prefix: str) -> Join | None:
    """Per-CPU time or utilisation → cpu.<mode> and cpu.util, averaged over CPUs."""
    mode = series.get(mode_tag)
    if not mode or mode.endswith("_cpus"):  # Vector's logical_cpus / physical_cpus counts
        return None
    mode = _CPU_MODES.get(mode, mode)
    return Join(f"{prefix}:{mode}", series.get("cpu", ""), ("cpu", mode))


def iface_sum(key: str, target: str) -> Rule:
    def rule(series: Mapping[str, str]) -> Join | None:
        dev = series.get("device", "")
        return None if is_virtual_iface(dev) else Join(key, dev, ("sum", target))
    return rule


def disk_agg(key: str, spec: tuple[Any, ...]) -> Rule:
    def rule(series: Mapping[str, str]) -> Join | None:
        dev = series.get("device", "")
        return Join(key, dev, spec) if is_whole_disk(dev) else None
    return rule


def fs_part(role: str, fstype_tag: str = "fstype") -> Rule:
    def rule(series: Mapping[str, str]) -> Join | None:
        mp = series.get("mountpoint", "")
        if not is_real_fs(series.get(fstype_tag), mp):
            return None
        return Join("fs", (mp, role), ("fs_pct", "disk.used_pct"))
    return rule


def latency_rule(
    name: str, series: Mapping[str, str], unit: str, role: str
) -> Emit | Join | None:
    """Request-duration histograms and summaries → latency.p99_ms over all their series."""
    if not LATENCY.search(name):
        return None
    scale = time_scale_ms(unit, name)
    if scale is None:
        return None
    if role == "bucket":
        rest = series_key({k: v for k, v in series.items() if k != "le"})
        spec = ("quantile", "latency.p99_ms", 0.99, scale)
        return Join(f"lat:{name}", (rest, series.get("le", "")), spec)
    if role == "quantile" and quantile_name(series.get("quantile")) == "p99":
        rest = series_key({k: v for k, v in series.items() if k != "quantile"})
        return Join(f"latq:{name}", rest, ("max", "latency.p99_ms", scale))
    return None


NODE_EXPORTER: Mapping[str, Rule] = {
    "node_cpu_seconds_total": lambda s: cpu_mode(s, "mode", "cpu"),
    "node_memory_MemAvailable_bytes": lambda s: Join("mem", "avail", _MEM_SPEC, _MEM),
    "node_memory_MemTotal_bytes": lambda s: Join("mem", "total", _MEM_SPEC, _MEM),
    "node_load1": lambda s: Emit("load.1m"),
    "node_load5": lambda s: Emit("load.5m"),
    "node_load15": lambda s: Emit("load.15m"),
    "node_network_receive_bytes_total": iface_sum("net:rx", "net.rx_bytes_s"),
    "node_network_transmit_bytes_total": iface_sum("net:tx", "net.tx_bytes_s"),
    "node_disk_read_bytes_total": disk_agg("disk:read", ("sum", "disk.read_bytes_s")),
    "node_disk_written_bytes_total": disk_agg("disk:write", ("sum", "disk.write_bytes_s")),
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
        items: list[Any] = []
        for doc in load_documents(payload, self.fmt):
            items.extend(doc if isinstance(doc, list) else [doc])
        points: list[Point] = []
        bad: list[AdapterError] = []
        for item in items:
            try:
                points.append(self._read_sample(item, recv_ts_ms, len(items) > 1))
            except AdapterError as exc:
                bad.append(exc)
        if bad and len(bad) == len(items):
            if len(items) == 1:
                raise bad[0]
            raise self.error(f"none of {len(items)} samples readable; first: {bad[0].reason}")
        self.stats["skipped_points"] += len(bad)
        return points

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
        if kind == GAUGE:
            return norm_name(name)
        return norm_name(name[:-6] if name.endswith("_total") else name) + "_s"
