"""Telegraf's JSON output: ``[[outputs.kafka]]`` with ``data_format = "json"``.

A message is one metric (a measurement with its fields)::

    {"fields": {"usage_idle": 97.5, "usage_user": 1.5}, "name": "cpu",
     "tags": {"cpu": "cpu-total", "host": "web-17"}, "timestamp": 1458229140}

or a batch, ``{"metrics": [...]}`` (``use_batch_format``), or several metrics one per line.
``timestamp`` is in epoch seconds unless ``json_timestamp_units`` says otherwise: give the
same unit as ``timestamp_units`` ("s", "ms", "us", "ns"), or leave "auto" to tell them apart
by magnitude; RFC 3339 text (``json_timestamp_format``) is read too. Field values may be
numbers, numeric strings or booleans (1/0); other strings are skipped and counted.

Known counter fields (``COUNTER_FIELDS``, cpu ``time_*``) become per-second rates; add your
own with ``counter_fields={"measurement": ["field", ...]}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streams.ingest.base import BaseAdapter, Emit, Join, Point, clean_tags
from streams.ingest.common import COUNTER, GAUGE, load_documents, to_ts_ms
from streams.ingest.component import ComponentRule
from streams.ingest.hostrules import is_real_fs, is_virtual_iface, is_whole_disk

COUNTER_FIELDS: Mapping[str, frozenset[str]] = {
    "net": frozenset({"bytes_sent", "bytes_recv", "packets_sent", "packets_recv", "err_in",
                      "err_out", "drop_in", "drop_out"}),
    "diskio": frozenset({"reads", "writes", "read_bytes", "write_bytes", "read_time",
                         "write_time", "io_time", "weighted_io_time", "merged_reads",
                         "merged_writes"}),
    "kernel": frozenset({"interrupts", "context_switches", "processes_forked",
                         "disk_pages_in", "disk_pages_out"}),
    "swap": frozenset({"in", "out"}),
    "docker_container_cpu": frozenset({"usage_total", "usage_in_usermode",
                                       "usage_in_kernelmode", "usage_system",
                                       "throttling_periods", "throttling_throttled_periods",
                                       "throttling_throttled_time"}),
    "docker_container_net": frozenset({"rx_bytes", "tx_bytes", "rx_packets", "tx_packets",
                                       "rx_errors", "tx_errors", "rx_dropped", "tx_dropped"}),
    "procstat": frozenset({"cpu_time_user", "cpu_time_system", "read_bytes", "write_bytes",
                           "read_count", "write_count"}),
    "nginx": frozenset({"accepts", "handled", "requests"}),
}
ALL_COUNTERS = frozenset({"nstat", "interrupts", "soft_interrupts"})
# net's interface="all" series carries /proc/net/snmp counters, save these gauges
_SNMP_PREFIXES = ("icmp_", "icmpmsg_", "ip_", "tcp_", "udp_", "udplite_")
_SNMP_GAUGES = frozenset({"tcp_currestab", "tcp_rtoalgorithm", "tcp_rtomin", "tcp_rtomax",
                          "tcp_maxconn", "ip_forwarding", "ip_defaultttl"})

# The tags that tell a known measurement's series apart (others neither name nor tag them).
SERIES_TAGS: Mapping[str, tuple[str, ...]] = {
    "cpu": ("cpu",), "disk": ("path", "fstype"), "diskio": ("name",), "net": ("interface",),
    "mem": (), "swap": (), "system": (), "kernel": (), "processes": (), "netstat": (),
}

_CPU_TOTAL = {
    "cpu.usage_idle": Emit("cpu.util", -0.01, -100.0),  # (100 - idle) / 100
    "cpu.usage_iowait": Emit("cpu.iowait", 0.01),
    "cpu.usage_steal": Emit("cpu.steal", 0.01),
    "cpu.usage_user": Emit("cpu.user", 0.01),
    "cpu.usage_system": Emit("cpu.system", 0.01),
}
_DIRECT = {
    "mem.used_percent": Emit("mem.used_pct"),
    "swap.used_percent": Emit("swap.used_pct"),
    "system.load1": Emit("load.1m"),
    "system.load5": Emit("load.5m"),
    "system.load15": Emit("load.15m"),
}
_NET = {
    "net.bytes_recv": ("net:rx", "net.rx_bytes_s"),
    "net.bytes_sent": ("net:tx", "net.tx_bytes_s"),
}
_DISKIO = {
    "diskio.read_bytes": ("disk:read", ("sum", "disk.read_bytes_s")),
    "diskio.write_bytes": ("disk:write", ("sum", "disk.write_bytes_s")),
    "diskio.io_time": ("disk:io", ("max", "disk.io_util", 0.001)),  # ms busy per s
}


class TelegrafAdapter(BaseAdapter):
    """Telegraf JSON → MetricSample dicts (see the module docstring)."""

    fmt = "telegraf"

    def __init__(
        self, rule: ComponentRule | None = None, *, timestamp_units: str = "auto",
        counter_fields: Mapping[str, Iterable[str]] | None = None, **options: Any,
    ) -> None:
        super().__init__(rule, **options)
        if timestamp_units not in ("auto", "s", "ms", "us", "ns"):
            raise ValueError(f"timestamp_units: auto, s, ms, us or ns, not {timestamp_units!r}")
        self.timestamp_units = timestamp_units
        self.counter_fields = {m: frozenset(f) for m, f in (counter_fields or {}).items()}
        none: frozenset[str] = frozenset()
        self._counters = {
            m: COUNTER_FIELDS.get(m, none) | self.counter_fields.get(m, none)
            for m in {*COUNTER_FIELDS, *self.counter_fields}
        }

    def read(self, payload: bytes, recv_ts_ms: int | None) -> list[Point]:
        items: list[Any] = []
        for doc in load_documents(payload, self.fmt):
            if isinstance(doc, dict) and "metrics" in doc and "fields" not in doc:
                if not isinstance(doc["metrics"], list):
                    raise self.error('"metrics" is not an array')
                items.extend(doc["metrics"])
            elif isinstance(doc, list):
                items.extend(doc)
            else:
                items.append(doc)
        whole = len(items) > 1  # a batch holds a whole gather: its joins may settle
        return self.read_each(items, lambda m: self._read_metric(m, recv_ts_ms, whole),
                              "metrics")

    def _read_metric(self, m: Any, recv_ts_ms: int | None, whole: bool) -> list[Point]:
        if not isinstance(m, dict):
            raise self.error(f"metric is a JSON {type(m).__name__}, expected an object")
        name, fields = m.get("name"), m.get("fields")
        if not isinstance(name, str) or not name:
            raise self.error('metric has no "name"')
        if not isinstance(fields, dict):
            raise self.error(f'metric {name!r} has no "fields" object')
        tags = clean_tags(m.get("tags"))
        ts = to_ts_ms(m.get("timestamp"), recv_ts_ms, self.fmt, self.timestamp_units)
        ident, series = self.identify(tags)
        if ident is None:
            raise self.no_component(tags)
        keys = SERIES_TAGS.get(name)
        if keys is not None:
            series = {k: tags[k] for k in keys if k in tags}
        counters = self._counters.get(name, frozenset())
        every = name in ALL_COUNTERS
        out = []
        for field, raw in fields.items():
            if not isinstance(field, str):
                continue
            counter = (every or field in counters or (name == "cpu" and field.startswith("time_"))
                       or (name == "net" and field.startswith(_SNMP_PREFIXES)
                           and field not in _SNMP_GAUGES))
            out.append(Point(ident, f"{name}.{field}", raw, ts, series,
                             COUNTER if counter else GAUGE, whole=whole))
        return out

    def map_point(
        self, name: str, series: Mapping[str, str], unit: str, role: str
    ) -> Emit | Join | None:
        action = _DIRECT.get(name)
        if action is not None:
            return action
        if name in _CPU_TOTAL:
            return _CPU_TOTAL[name] if series.get("cpu") == "cpu-total" else None
        if name in _NET:
            iface = series.get("interface", "")
            if is_virtual_iface(iface):
                return None
            key, target = _NET[name]
            return Join(key, iface, ("sum", target))
        if name in _DISKIO:
            disk = series.get("name", "")
            if not is_whole_disk(disk):
                return None
            key, spec = _DISKIO[name]
            return Join(key, disk, spec)
        if name == "disk.used_percent" and is_real_fs(series.get("fstype"), series.get("path")):
            return Join("disk:used", series.get("path", ""), ("max", "disk.used_pct", 1.0))
        return None
