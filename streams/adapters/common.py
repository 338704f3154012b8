"""What every ingest adapter shares.

An adapter turns one Kafka message of a foreign format into MetricSample dicts. The parts
that do not depend on the format live here:

* ``AdapterError`` — the only exception an adapter raises for a bad message::

      ValueError
       └── AdapterError(fmt, reason)   the message cannot be read: dead-letter it, with str(err)

* ``ComponentRule`` — which tags name the component, and which are its host.
* ``to_number`` / ``to_ts_ms`` — the awkward values and timestamps of real shippers.
* ``norm_name`` / ``series_suffix`` — forewarn's dotted lowercase metric names.
* ``CounterState`` — cumulative counters to per-second rates (resets, LRU bound, state).
* ``Joiner`` — metrics derived from several series, which may come in several messages.
* ``BaseAdapter`` — value → rate → mapping → grouping into samples, for every format.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple

import orjson

from schemas.errors import DecodeError

# Point kinds: how a raw value becomes a metric value.
GAUGE = 0  # the value is the metric
COUNTER = 1  # cumulative, monotonic: per-second rate between observations
DELTA = 2  # an increment over an interval: per-second rate = value / interval

HOST_ALIASES = ("host", "hostname", "instance", "host.name", "service.instance.id")
SERVICE_ALIASES = ("service", "service.name", "job", "container", "container_name")
# Values of a service alias that name a host-metrics collector, not a service on the host
# (Prometheus' job="node" would otherwise make every node_exporter series "web-17/node").
COLLECTOR_JOBS = frozenset(
    {"node", "node_exporter", "node-exporter", "nodeexporter", "telegraf", "hostmetrics",
     "host_metrics", "otelcol", "otel-collector", "vector", "windows_exporter"}
)
# Tags that describe where a series comes from rather than which series it is: they go to
# the sample's tags, never into metric names.
CONTEXT_TAGS = frozenset(
    {"job", "instance", "region", "zone", "az", "availability_zone", "dc", "datacenter",
     "cluster", "env", "environment", "collector", "prometheus", "prometheus_replica",
     "replica", "source_type", "__name__"}
)


class AdapterError(DecodeError, ValueError):
    """A message that its adapter cannot read; ``str()`` says which format and what was wrong.

    A :class:`schemas.errors.DecodeError`, so ingest dead-letters it like any unreadable bytes.
    """

    def __init__(self, fmt: str, reason: str) -> None:
        super().__init__(f"{fmt} adapter: {reason}")
        self.fmt = fmt
        self.reason = reason

    def __reduce__(self) -> tuple[type[AdapterError], tuple[str, str]]:
        return (AdapterError, (self.fmt, self.reason))


def load_documents(payload: Any, fmt: str) -> list[Any]:
    """Decode one JSON document, or newline-delimited JSON (one document a line)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogatepass")
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise AdapterError(fmt, f"payload is {type(payload).__name__}, expected bytes")
    data = bytes(payload)
    if not data.strip():
        raise AdapterError(fmt, "empty message")
    try:
        return [orjson.loads(data)]
    except orjson.JSONDecodeError as exc:
        whole = exc
    lines = [line for line in data.splitlines() if line.strip()]
    if len(lines) < 2:
        raise AdapterError(fmt, f"message is not JSON ({whole})")
    docs = []
    for i, line in enumerate(lines, 1):
        try:
            docs.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise AdapterError(fmt, f"line {i} of {len(lines)} is not JSON ({exc})") from None
    return docs


# ---------------------------------------------------------------------------------- values


def to_number(raw: Any) -> int | float | None:
    """A finite number from a JSON value: numbers, numeric strings ("1.5", "9876543210"),
    booleans (1/0). None for NaN/±Inf, non-numeric strings and anything nested."""
    t = type(raw)
    if t is float:
        return raw if math.isfinite(raw) else None
    if t is int:
        return raw  # type: ignore[no-any-return]
    if t is str:
        s = raw.strip()
        if s.isascii() and s.isdigit():  # 64-bit counters as strings stay exact
            return int(s)
        try:
            x = float(s)
        except ValueError:
            return None
        return x if math.isfinite(x) else None
    if t is bool:
        return 1 if raw else 0
    return None


_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_UNIT_DIV = {"ms": 1, "us": 1_000, "ns": 1_000_000}


def epoch_to_ms(x: int | float, unit: str = "auto") -> int | None:
    """Epoch number to ms. ``unit`` is s|ms|us|ns, or auto: guessed by magnitude (values
    below 1e11 are seconds, below 1e14 ms, below 1e17 µs, else ns)."""
    if unit == "auto":
        a = abs(x)
        unit = "s" if a < 1e11 else "ms" if a < 1e14 else "us" if a < 1e17 else "ns"
    if unit == "s":
        ms = x * 1000 if type(x) is int else round(x * 1000)
    elif type(x) is int:
        ms = x // _UNIT_DIV[unit]
    else:
        ms = math.floor(x / _UNIT_DIV[unit])
    return int(ms) if 0 <= ms <= _MAX_MS else None


@lru_cache(maxsize=4096)
def iso_to_ms(text: str) -> int | None:
    """RFC 3339 / ISO 8601 text to epoch ms (no zone means UTC); None if unreadable."""
    try:
        dt = datetime.fromisoformat(text.strip())
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        ms = (int(dt.timestamp()) * 1000) + dt.microsecond // 1000
    except (ValueError, OverflowError):
        return None
    return ms if 0 <= ms <= _MAX_MS else None


def to_ts_ms(raw: Any, recv_ts_ms: int | None, fmt: str, unit: str = "auto") -> int:
    """A message's event time in ms: epoch numbers (``unit``), digit strings, RFC 3339 text.
    Missing (None, "", 0) falls back to ``recv_ts_ms``; otherwise an AdapterError."""
    if type(raw) is bool:
        raise AdapterError(fmt, "unreadable timestamp (a boolean)")
    if raw is None or raw == "" or raw == 0 or raw == "0":
        if recv_ts_ms is None:
            raise AdapterError(fmt, "no timestamp in the message and no receive time given")
        return int(recv_ts_ms)
    t = type(raw)
    ms: int | None = None
    if t is int or (t is float and math.isfinite(raw)):
        ms = epoch_to_ms(raw, unit)
    elif t is str:
        s = raw.strip()
        ms = epoch_to_ms(int(s), unit) if s.isascii() and s.isdigit() else iso_to_ms(s)
    if ms is None:
        raise AdapterError(fmt, f"unreadable timestamp {str(raw)[:40]!r}")
    return ms


# ----------------------------------------------------------------------------------- names

_BAD = re.compile(r"[^a-z0-9_.]+")


@lru_cache(maxsize=65536)
def norm_name(name: str) -> str:
    """Dotted lowercase: anything but [a-z0-9_.] becomes "_" ("Disk IO/Busy" → disk_io_busy)."""
    return _BAD.sub("_", name.lower()).strip("._") or "_"


@lru_cache(maxsize=65536)
def _suffix(items: tuple[tuple[str, str], ...]) -> str:
    parts = []
    for _, value in items:
        v = "root" if value == "/" else _BAD.sub("_", value.lower()).strip("._")
        parts.append(v or "_")
    return "." + ".".join(parts) if parts else ""


def series_suffix(series: Mapping[str, str]) -> str:
    """The values of a series' own tags, by tag name: {"cpu": "cpu0"} → ".cpu0"."""
    return _suffix(tuple(sorted(series.items()))) if series else ""


def series_key(series: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(series.items())) if series else ""


def quantile_name(q: Any) -> str | None:
    """0.99 → "p99", 0.5 → "p50", 0.999 → "p99_9"; None if not a quantile."""
    x = to_number(q)
    if x is None or not 0 <= x <= 1:
        return None
    return "p" + (f"{x * 100:.3f}".rstrip("0").rstrip(".").replace(".", "_") or "0")


_TIME_SCALE_MS = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "µs": 1e-3, "ns": 1e-6}
_NAME_UNIT = (("_seconds", "s"), ("_milliseconds", "ms"), ("_ms", "ms"),
              ("_microseconds", "us"), ("_us", "us"))


def time_scale_ms(unit: str, name: str = "") -> float | None:
    """Factor to milliseconds for a time unit, taken from ``unit`` or else ``name``'s suffix."""
    if unit:
        return _TIME_SCALE_MS.get(unit.strip("{}").lower())
    for suffix, u in _NAME_UNIT:
        if name.endswith(suffix):
            return _TIME_SCALE_MS[u]
    return None


# Series that a host-level aggregate leaves out (they would count the same bytes twice or
# are not real disks); they still pass through under their own names.
_VIRTUAL_IFACE = re.compile(
    r"^(lo\d*|veth.*|docker\d*|br-.*|cali.*|cni\d*|flannel.*|virbr.*|vnet\d+|tunl\d+|"
    r"kube-ipvs\d*|cilium_.*|lxc.*|all)$"
)
_NOT_A_DISK = re.compile(
    r"^(z?ram\d+|loop\d+|fd\d+|sr\d+|dm-\d+|md\d+p\d+|(h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|"
    r"mmcblk\d+p\d+)$"
)
PSEUDO_FS = frozenset(
    {"tmpfs", "devtmpfs", "squashfs", "overlay", "aufs", "iso9660", "ramfs", "proc", "sysfs",
     "cgroup", "cgroup2", "nsfs", "tracefs", "debugfs", "securityfs", "pstore", "bpf",
     "autofs", "mqueue", "hugetlbfs", "fusectl", "configfs", "rpc_pipefs", "binfmt_misc",
     "devpts", "fuse.lxcfs", "efivarfs", "selinuxfs"}
)


def is_virtual_iface(name: str) -> bool:
    return bool(_VIRTUAL_IFACE.match(name))


def is_whole_disk(name: str) -> bool:
    return bool(name) and not _NOT_A_DISK.match(name)


def is_real_fs(fstype: str | None, mountpoint: str | None) -> bool:
    if fstype and fstype.lower() in PSEUDO_FS:
        return False
    mp = mountpoint or ""
    return not mp.startswith(("/proc", "/sys", "/dev", "/run", "/snap", "/var/lib/docker"))


# ------------------------------------------------------------------------- component rule

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def strip_port(instance: str) -> str:
    """"web-17:9100" → "web-17", "[2001:db8::1]:9100" → "2001:db8::1"; bare IPv6 kept."""
    if instance.startswith("["):
        end = instance.find("]")
        return instance[1:end] if end > 0 else instance
    host, sep, port = instance.rpartition(":")
    if sep and port.isascii() and port.isdigit() and ":" not in host:
        return host
    return instance


@dataclass(frozen=True)
class ComponentRule:
    """How a point's tags name its component (the Kafka key of forewarn.metrics).

    ``template`` is tried first, then each of ``fallbacks``; the first whose placeholders
    all resolve to non-empty values wins. A placeholder is a tag name (``{container_name}``,
    ``{k8s.pod.name}``) or an alias:

    * ``{host}`` ← host | hostname | instance (":port" stripped) | host.name | service.instance.id
    * ``{service}`` ← service | service.name | job | container | container_name, skipping
      values that name a host-metrics collector (job="node", "telegraf", …: ``collector_jobs``)

    The sample's ``host`` is the ``{host}`` alias (else the component's first "/" part).
    The default, ``{host}/{service}`` falling back to ``{host}``, gives ``web-17`` for host
    metrics and ``web-17/postgres`` for a service's.

    >>> ComponentRule().resolve({"instance": "web-17:9100", "job": "node"})
    ('web-17', 'web-17')
    >>> ComponentRule().resolve({"host.name": "web-17", "service.name": "checkout"})
    ('web-17/checkout', 'web-17')
    """

    template: str = "{host}/{service}"
    fallbacks: tuple[str, ...] = ("{host}",)
    aliases: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"host": HOST_ALIASES, "service": SERVICE_ALIASES}
    )
    collector_jobs: frozenset[str] = COLLECTOR_JOBS

    def __post_init__(self) -> None:
        object.__setattr__(self, "fallbacks", tuple(self.fallbacks))
        templates = (self.template, *self.fallbacks)
        # each template as (pieces, names): pieces alternate literal text and placeholder
        compiled = tuple((tuple(_PLACEHOLDER.split(t)), tuple(_PLACEHOLDER.findall(t)))
                         for t in templates)
        for t, (_, names) in zip(templates, compiled, strict=True):
            if not names:
                raise ValueError(f"component template {t!r} has no {{placeholder}}")
        object.__setattr__(self, "_compiled", compiled)
        keys: set[str] = set()
        for _, names in compiled:
            for name in names:
                keys.update(self.aliases.get(name, (name,)))
        keys.update(self.aliases.get("host", ()))
        object.__setattr__(self, "identity_keys", frozenset(keys))

    identity_keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def lookup(self, name: str, tags: Mapping[str, str]) -> str | None:
        keys = self.aliases.get(name)
        if keys is None:
            v = tags.get(name)
            return v if isinstance(v, str) and v else None
        for key in keys:
            v = tags.get(key)
            if not isinstance(v, str) or not v:
                continue
            if key == "instance":
                v = strip_port(v)
            if name == "service" and v.lower() in self.collector_jobs:
                continue
            return v
        return None

    def resolve(self, tags: Mapping[str, str]) -> tuple[str, str] | None:
        """(component, host) for these tags, or None when no template resolves."""
        for pieces, names in self._compiled:  # type: ignore[attr-defined]
            values = {}
            for name in names:
                v = self.lookup(name, tags)
                if v is None:
                    break
                values[name] = v
            else:
                component = "".join(
                    values[x] if i % 2 else x for i, x in enumerate(pieces)
                )
                host = values.get("host") or self.lookup("host", tags)
                return component, host or component.split("/", 1)[0]
        return None


# -------------------------------------------------------------------------- counter state

FIRST, OK, RESET, STALE = "first", "ok", "reset", "stale"


class CounterState:
    """The last observation of each cumulative series, to turn counters into rates.

    Keyed by (source, metric, series); at most ``max_series`` entries, least recently
    seen evicted first. A lower value than the last one is a reset: the rate counts from 0.
    A changed start time (OTel ``startTimeUnixNano``) is a reset too. The first observation
    of a series, and one not newer than the last, give no rate.
    """

    def __init__(self, max_series: int = 100_000) -> None:
        self.max_series = max_series
        self._last: OrderedDict[tuple[str, str, str], tuple[int, int | float, int | None]]
        self._last = OrderedDict()

    def __len__(self) -> int:
        return len(self._last)

    def _store(self, key: tuple[str, str, str], entry: tuple[int, int | float, int | None]) -> None:
        if type(entry[1]) is int and not -(2**63) <= entry[1] < 2**64:
            entry = (entry[0], float(entry[1]), entry[2])  # keep the state JSON-ready
        last = self._last
        last[key] = entry
        last.move_to_end(key)
        if len(last) > self.max_series:
            last.popitem(last=False)

    def rate(
        self, key: tuple[str, str, str], ts_ms: int, value: int | float, start_ms: int | None = None
    ) -> tuple[float | None, str]:
        """Per-second rate since the last observation, and what happened (first/ok/reset/stale)."""
        prev = self._last.get(key)
        if prev is None:
            self._store(key, (ts_ms, value, start_ms))
            return None, FIRST
        pts, pval, pstart = prev
        if ts_ms <= pts:
            return None, STALE
        self._store(key, (ts_ms, value, start_ms))
        restarted = start_ms is not None and pstart is not None and start_ms != pstart
        if value < pval or restarted:
            since = max(pts, start_ms) if restarted and start_ms is not None else pts
            return value * 1000.0 / max(ts_ms - since, 1), RESET
        return (value - pval) * 1000.0 / (ts_ms - pts), OK

    def per_second(
        self, key: tuple[str, str, str], ts_ms: int, value: int | float, interval_ms: int | None
    ) -> tuple[float | None, str]:
        """Rate of an increment over ``interval_ms``, or over the time since the series' last
        increment when the interval is unknown (none for the first)."""
        prev = self._last.get(key)
        self._store(key, (ts_ms, value, None))
        if interval_ms is None or interval_ms <= 0:
            if prev is None:
                return None, FIRST
            interval_ms = ts_ms - prev[0]
            if interval_ms <= 0:
                return None, STALE
        return value * 1000.0 / interval_ms, OK

    def state(self) -> list[list[Any]]:
        return [[*k, ts, v, s] for k, (ts, v, s) in self._last.items()]

    def load_state(self, rows: Iterable[list[Any]]) -> None:
        self._last.clear()
        for c, m, s, ts, v, start in rows:
            self._store((c, m, s), (ts, v, start))


# ---------------------------------------------------------------------------------- joins


def bucket_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile over (upper bound, cumulative count) pairs."""
    bs = sorted(buckets)
    if len(bs) < 2 or bs[-1][0] != math.inf:
        return None
    run = 0.0
    for i, (le, c) in enumerate(bs):  # make counts monotonic, as Prometheus does
        run = max(run, c)
        bs[i] = (le, run)
    total = bs[-1][1]
    if total <= 0:
        return None
    rank = q * total
    i = next(i for i, (_, c) in enumerate(bs) if c >= rank)
    le, c = bs[i]
    if le == math.inf:
        return bs[-2][0]
    lower, below = (0.0, 0.0) if i == 0 else bs[i - 1]
    if i == 0 and le <= 0:
        return le
    return lower + (le - lower) * (rank - below) / (c - below) if c > below else le


def _agg_sum(v: dict[Any, float], target: str) -> dict[str, float]:
    return {target: math.fsum(v.values())}


def _agg_max(v: dict[Any, float], target: str, scale: float) -> dict[str, float]:
    return {target: max(v.values()) * scale}


def _agg_cpu(v: dict[Any, float], mode: str) -> dict[str, float]:
    """Mean over CPUs of one mode's share of time (utilisation, or seconds per second)."""
    share = min(max(math.fsum(v.values()) / len(v), 0.0), 1.0)
    out = {f"cpu.{mode}": share}
    if mode == "idle":
        out["cpu.util"] = 1.0 - share
    return out


def _agg_used_pct(v: dict[Any, float], avail: str, total: str, target: str) -> dict[str, float]:
    a, t = v.get(avail), v.get(total)
    if a is None or not t:
        return {}
    return {target: min(max(100.0 * (1.0 - a / t), 0.0), 100.0)}


def _agg_share_pct(v: dict[Any, float], part: str, target: str) -> dict[str, float]:
    whole = math.fsum(v.values())
    return {target: 100.0 * v[part] / whole} if part in v and whole > 0 else {}


def _agg_fs_pct(v: dict[Any, float], target: str) -> dict[str, float]:
    """Fullest filesystem: parts (mountpoint, avail|size|used|free)."""
    mounts: dict[Any, dict[str, float]] = {}
    for (mount, role), x in v.items():
        mounts.setdefault(mount, {})[role] = x
    pcts = []
    for m in mounts.values():
        if m.get("size"):
            pcts.append(100.0 * (1.0 - m.get("avail", m["size"]) / m["size"]))
        elif "used" in m and m["used"] + m.get("free", 0.0) > 0:
            pcts.append(100.0 * m["used"] / (m["used"] + m.get("free", 0.0)))
    return {target: min(max(max(pcts), 0.0), 100.0)} if pcts else {}


def _le(part: Any) -> float | None:
    try:
        return float(part[-1] if isinstance(part, tuple) else part)
    except (TypeError, ValueError):
        return None


def _agg_quantile(v: dict[Any, float], target: str, q: float, scale: float) -> dict[str, float]:
    """Quantile of bucket rates summed over series; parts are le or (series, le)."""
    by_le: dict[float, float] = {}
    for part, x in v.items():
        le = _le(part)
        if le is not None and not math.isnan(le):
            by_le[le] = by_le.get(le, 0.0) + x
    value = bucket_quantile(q, by_le.items())
    return {} if value is None else {target: value * scale}


AGGREGATES = {
    "sum": _agg_sum, "max": _agg_max, "cpu": _agg_cpu, "used_pct": _agg_used_pct,
    "share_pct": _agg_share_pct, "fs_pct": _agg_fs_pct, "quantile": _agg_quantile,
}
Part = str | tuple[str, ...]
JoinKey = tuple[str, str]  # (source, what is being joined)
# what a closed round gives: component, ts, metrics, host, tags
Joined = tuple[str, int, dict[str, float], str, dict[str, str]]


def _tupled(x: Any) -> Any:
    return tuple(_tupled(i) for i in x) if isinstance(x, list) else x


class Joiner:
    """Joins the series behind one derived metric (mean over CPUs, sum over interfaces,
    available/total, histogram buckets), which often arrive in separate messages.

    Parts within ``tolerance_ms`` of a round's first timestamp form one round. A round is
    complete when it holds every part of the previous round (or the fixed set it was given),
    and is then aggregated at once; a later round closes an incomplete one. Parts that
    arrive after their round closed are dropped (``late``) but learnt for the next round.
    ``settle`` closes rounds with nothing to learn from, when a message holds a whole scrape.
    A part with value None counts for completeness only (a counter's first observation).
    """

    def __init__(self, tolerance_ms: int = 500, max_keys: int = 100_000) -> None:
        self.tolerance_ms = tolerance_ms
        self.max_keys = max_keys
        self.late = 0
        self.evicted = 0
        # key -> [ts, {part: value}, spec, (component, host, tags) of the sample to emit]
        self._open: OrderedDict[JoinKey, list[Any]] = OrderedDict()
        # key -> [parts of the last round, its ts]
        self._seen: OrderedDict[JoinKey, list[Any]] = OrderedDict()

    def add(
        self, key: JoinKey, ts: int, part: Part, value: float | None, spec: tuple[Any, ...],
        sink: tuple[str, str, dict[str, str]], fixed: frozenset[Part] | None = None,
    ) -> list[Joined]:
        out: list[Joined] = []
        tol = self.tolerance_ms
        seen = self._seen.get(key)
        if seen is not None and ts <= seen[1] + tol:
            seen[0].add(part)
            self.late += 1
            return out
        r = self._open.get(key)
        if r is not None and ts > r[0] + tol:
            self._close(key, out)
            seen, r = self._seen.get(key), None
        elif r is not None and ts < r[0] - tol:
            self.late += 1
            return out
        if r is None:
            r = self._open[key] = [ts, {}, spec, sink]
            if len(self._open) > self.max_keys:
                self._open.popitem(last=False)
                self.evicted += 1
        r[1][part] = value
        expected = fixed if fixed is not None else (seen[0] if seen is not None else None)
        if expected is not None and r[1].keys() >= expected:
            self._close(key, out)
        return out

    def _close(self, key: JoinKey, out: list[Joined]) -> None:
        ts, parts, spec, (component, host, tags) = self._open.pop(key)
        self._seen[key] = [set(parts), ts]
        self._seen.move_to_end(key)
        if len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)
        values = {p: x for p, x in parts.items() if x is not None}
        if values:
            metrics = AGGREGATES[spec[0]](values, *spec[1:])
            if metrics:
                out.append((component, ts, metrics, host, tags))

    def settle(self, keys: Iterable[JoinKey]) -> list[Joined]:
        out: list[Joined] = []
        for key in keys:
            if key in self._open and key not in self._seen:
                self._close(key, out)
        return out

    def flush(self) -> list[Joined]:
        out: list[Joined] = []
        for key in list(self._open):
            self._close(key, out)
        return out

    def state(self) -> dict[str, Any]:
        return {
            "open": [[list(k), ts, list(p.items()), list(spec), list(sink)]
                     for k, (ts, p, spec, sink) in self._open.items()],
            "seen": [[list(k), list(parts), ts] for k, (parts, ts) in self._seen.items()],
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._open.clear()
        self._seen.clear()
        for k, ts, parts, spec, sink in state.get("open", []):
            self._open[tuple(k)] = [ts, {_tupled(p): x for p, x in parts}, tuple(spec),
                                    tuple(sink)]
        for k, parts, ts in state.get("seen", []):
            self._seen[tuple(k)] = [{_tupled(p) for p in parts}, ts]


# --------------------------------------------------------------------------------- engine


class Emit(NamedTuple):
    """Map a point straight to one metric: ``(value + offset) * scale``."""

    target: str
    scale: float = 1.0
    offset: float = 0.0


class Join(NamedTuple):
    """Feed a point to a Joiner round: ``key`` names the derived metric, ``part`` the series,
    ``spec`` the aggregate (a name in AGGREGATES and its arguments)."""

    key: str
    part: Part
    spec: tuple[Any, ...]
    fixed: frozenset[Part] | None = None


class Ident(NamedTuple):
    """Whose a point is: its component, host, descriptive tags, and ``source``: the component
    with those tags, which keeps apart two sources of one component (two replicas behind
    one id), so their counters and joins never mix."""

    component: str
    host: str
    tags: dict[str, str]
    source: str


class Point(NamedTuple):
    """One value of one series, as a format module reads it."""

    ident: Ident
    name: str
    raw: Any
    ts: int
    series: dict[str, str]
    kind: int = GAUGE
    interval_ms: int | None = None
    start_ms: int | None = None
    unit: str = ""
    role: str = ""  # "bucket" (series has "le") or "quantile" (series has "quantile")
    whole: bool = False  # its message holds all its siblings: joins it feeds may settle


def clean_tags(raw: Any) -> dict[str, str]:
    """String tags from a JSON object: scalars become text, a list keeps its last non-null
    string (Vector's multi-valued tags), nested values are left out."""
    if not isinstance(raw, dict):
        return {}
    out = {}
    for k, v in raw.items():
        if isinstance(v, str):
            out[k] = v
        elif isinstance(v, list):
            texts = [x for x in v if isinstance(x, str)]
            if texts:
                out[k] = texts[-1]
        elif isinstance(v, bool):
            out[k] = "true" if v else "false"
        elif isinstance(v, int | float):
            out[k] = str(v)
    return out


_MEMO_SIZE = 65_536
STAT_KEYS = (
    "messages", "rejected", "points", "samples", "skipped_values", "skipped_points",
    "counter_first", "counter_reset", "counter_stale", "joins_late", "unsupported",
)


class BaseAdapter:
    """The format-independent half of an adapter: values, counter rates, name mapping,
    joins and grouping into one MetricSample per (component, ts).

    Subclasses implement ``read`` (payload → points; it raises before any state changes;
    ``Point.whole`` marks points whose message holds all their siblings) and may override
    ``map_point`` (known names → forewarn metrics) and ``base_name`` (pass-through names).
    Unmapped points pass through as ``base_name + series_suffix``; counter rates get "_s".
    ``stats`` counts what was read, skipped and why, so nothing is dropped silently.
    """

    fmt: ClassVar[str] = "?"

    def __init__(
        self, rule: ComponentRule | None = None, *, max_series: int = 100_000,
        join_tolerance_ms: int = 500,
    ) -> None:
        self.rule = rule if rule is not None else ComponentRule()
        self.max_series = max_series
        self.join_tolerance_ms = join_tolerance_ms
        self.counters = CounterState(max_series)
        self.joins = Joiner(join_tolerance_ms, max_series)
        self.stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)
        self._identity = self.rule.identity_keys | CONTEXT_TAGS
        # memo of pure functions of a point's tags and names (not state; bounded)
        self._idents: dict[tuple[Any, ...], tuple[Ident | None, dict[str, str]]] = {}
        self._actions: dict[tuple[Any, ...], tuple[Emit | Join, str]] = {}

    # -- the seam ------------------------------------------------------------------------

    def parse(self, payload: bytes, recv_ts_ms: int | None = None) -> list[dict[str, Any]]:
        """MetricSample dicts for one message; AdapterError if it cannot be read."""
        self.stats["messages"] += 1
        try:
            points = self.read(payload, recv_ts_ms)
        except AdapterError:
            self.stats["rejected"] += 1
            raise
        groups: dict[tuple[str, int], dict[str, Any]] = {}
        touched: set[JoinKey] = set()
        self.stats["points"] += len(points)
        for p in points:
            self._process(groups, touched, p)
        if touched:
            self._put_joined(groups, self.joins.settle(touched))
        return self._finish(groups)

    def flush(self) -> list[dict[str, Any]]:
        """Samples of every join still waiting for parts (end of a replay, shutdown)."""
        groups: dict[tuple[str, int], dict[str, Any]] = {}
        self._put_joined(groups, self.joins.flush())
        return self._finish(groups)

    def state(self) -> dict[str, Any]:
        """JSON-ready state (counter last values, open joins), for checkpoints."""
        return {"format": self.fmt, "counters": self.counters.state(),
                "joins": self.joins.state()}

    def load_state(self, state: Mapping[str, Any]) -> None:
        if state.get("format") != self.fmt:
            raise ValueError(f"state of a {state.get('format')!r} adapter, not {self.fmt!r}")
        self.counters.load_state(state["counters"])
        self.joins.load_state(state["joins"])

    # -- hooks ---------------------------------------------------------------------------

    def read(self, payload: bytes, recv_ts_ms: int | None) -> list[Point]:
        raise NotImplementedError

    def map_point(
        self, name: str, series: Mapping[str, str], unit: str, role: str
    ) -> Emit | Join | None:
        return None

    def base_name(self, name: str, kind: int) -> str:
        return norm_name(name) + ("_s" if kind != GAUGE else "")

    # -- helpers for subclasses ----------------------------------------------------------

    def error(self, reason: str) -> AdapterError:
        return AdapterError(self.fmt, reason)

    def ident(self, tags: Mapping[str, str], *, all_tags: bool = False) -> Ident | None:
        """The component these tags name, with the tags that describe it (not the series)."""
        return self.identify(tags, all_tags=all_tags)[0]

    def identify(
        self, tags: Mapping[str, str], *, all_tags: bool = False
    ) -> tuple[Ident | None, dict[str, str]]:
        """``ident`` and ``series_of`` at once, memoised per tag set."""
        key = (all_tags, *tags.items())
        hit = self._idents.get(key)
        if hit is not None:
            return hit
        resolved = self.rule.resolve(tags)
        ident = None
        if resolved is not None:
            keep = {k: v for k, v in tags.items() if all_tags or k in self._identity}
            keep.pop("__name__", None)
            ident = Ident(resolved[0], resolved[1], keep, f"{resolved[0]}|{series_key(keep)}")
        hit = (ident, self.series_of(tags))
        if len(self._idents) >= _MEMO_SIZE:
            self._idents.clear()
        self._idents[key] = hit
        return hit

    def no_component(self, tags: Mapping[str, str]) -> AdapterError:
        have = ", ".join(sorted(tags)[:8]) or "none"
        return self.error(
            f"no tag names the component for template {self.rule.template!r} or its fallbacks"
            f" (tags present: {have})"
        )

    def series_of(self, tags: Mapping[str, str]) -> dict[str, str]:
        """The tags that tell this series from its siblings (not identity or context)."""
        return {k: v for k, v in tags.items() if k not in self._identity}

    # -- internals -----------------------------------------------------------------------

    def _default(self, name: str, series: Mapping[str, str], kind: int, role: str) -> Emit | Join:
        if role == "bucket":
            rest = {k: v for k, v in series.items() if k != "le"}
            suffix = series_suffix(rest)
            target = f"{self.base_name(name, GAUGE)}.p99{suffix}"
            spec = ("quantile", target, 0.99, 1.0)
            return Join(f"hist:{name}{suffix}", series.get("le", ""), spec)
        if role == "quantile":
            rest = {k: v for k, v in series.items() if k != "quantile"}
            q = quantile_name(series.get("quantile")) or "q"
            return Emit(f"{self.base_name(name, GAUGE)}.{q}{series_suffix(rest)}")
        return Emit(self.base_name(name, kind) + series_suffix(series))

    def _action(
        self, name: str, series: dict[str, str], kind: int, unit: str, role: str
    ) -> tuple[Emit | Join, str]:
        """What to do with a series' points, and its counter key; memoised (pure)."""
        key = (name, kind, unit, role, *series.items())
        hit = self._actions.get(key)
        if hit is None:
            action = self.map_point(name, series, unit, role)
            if action is None:
                action = self._default(name, series, kind, role)
            hit = (action, series_key(series))
            if len(self._actions) >= _MEMO_SIZE:
                self._actions.clear()
            self._actions[key] = hit
        return hit

    def _process(
        self, groups: dict[tuple[str, int], dict[str, Any]], touched: set[JoinKey], p: Point
    ) -> None:
        ident, name, raw, ts, series, kind, interval_ms, start_ms, unit, role, whole = p
        value = to_number(raw)
        if value is None:
            self.stats["skipped_values"] += 1
            return
        action, skey = self._action(name, series, kind, unit, role)
        v: float | None
        if kind == GAUGE:
            v = float(value)
        else:
            if kind == COUNTER:
                v, status = self.counters.rate((ident.source, name, skey), ts, value, start_ms)
            else:
                v, status = self.counters.per_second(
                    (ident.source, name, skey), ts, value, interval_ms)
            if status != OK:
                self.stats["counter_" + status] += 1
        if type(action) is Emit:
            if v is not None:
                self._put(groups, ident.component, ident.host, ident.tags, ts,
                          {action.target: (v + action.offset) * action.scale})
            return
        jkey = (ident.source, action.key)
        if whole:
            touched.add(jkey)
        joined = self.joins.add(jkey, ts, action.part, v, action.spec, ident[:3], action.fixed)
        if joined:
            self._put_joined(groups, joined)

    def _put_joined(
        self, groups: dict[tuple[str, int], dict[str, Any]], joined: list[Joined]
    ) -> None:
        for component, ts, metrics, host, tags in joined:
            self._put(groups, component, host, tags, ts, metrics)

    def _put(
        self, groups: dict[tuple[str, int], dict[str, Any]], component: str, host: str,
        tags: dict[str, str], ts: int, metrics: dict[str, float],
    ) -> None:
        sample = groups.get((component, ts))
        if sample is None:
            sample = groups[(component, ts)] = {
                "component": component, "host": host, "ts": ts, "metrics": {},
                "tags": dict(tags),
            }
        out = sample["metrics"]
        for name, x in metrics.items():
            if math.isfinite(x):
                out[name] = float(x)
            else:
                self.stats["skipped_values"] += 1

    def _finish(self, groups: dict[tuple[str, int], dict[str, Any]]) -> list[dict[str, Any]]:
        samples = [s for s in groups.values() if s["metrics"]]
        self.stats["samples"] += len(samples)
        self.stats["joins_late"] = self.joins.late
        return samples
