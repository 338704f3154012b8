"""Collectors for ``forewarn ship``: this host's metrics, its cgroups' and HTTP probes'.

Each collector reads kernel files directly (``/proc``, cgroup v2) and returns plain samples;
nothing here touches Kafka. Roots are parameters, so tests run them on directory trees with
the same file formats. A file that is missing or unreadable (a container, a kernel without
PSI, another OS) leaves its metrics out of the sample; it never stops a collection.

Rates need two observations: the first collection gives gauges only. Time for rates is the
caller's monotonic clock (``mono_s``), so wall-clock steps never distort them.

>>> HostCollector("web-17", proc_root="/nonexistent", mounts=()).collect(0, 0.0)
[]
"""

from __future__ import annotations

import glob
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol

from streams.adapters.common import is_virtual_iface, is_whole_disk

log = logging.getLogger(__name__)

SECTOR_BYTES = 512  # /proc/diskstats counts 512-byte sectors whatever the device's own size


class Sample(NamedTuple):
    """One observation of one component, as the shipper buffers it."""

    component: str
    host: str
    ts: int  # event time, ms
    metrics: dict[str, float]
    tags: dict[str, str]


class Collector(Protocol):
    """What the shipper calls once per interval."""

    def collect(self, ts_ms: int, mono_s: float) -> list[Sample]: ...

    def close(self) -> None: ...


def read_text(path: str) -> str | None:
    """The whole file, or None if it cannot be read (missing, permission, cgroup gone)."""
    try:
        with open(path, "rb", buffering=0) as f:
            return f.readall().decode("ascii", "replace")
    except OSError:
        return None


class Rates:
    """Per-second rates of cumulative counters between two collections.

    A counter that went down (reset, wrap, a device that came back) gives no rate that time.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, float]] = {}

    def rate(self, key: str, value: float, mono_s: float) -> float | None:
        prev = self._last.get(key)
        self._last[key] = (value, mono_s)
        if prev is None:
            return None
        dv, dt = value - prev[0], mono_s - prev[1]
        if dt <= 0 or dv < 0:
            return None
        return dv / dt

    def forget(self, prefix: str) -> None:
        for key in [k for k in self._last if k.startswith(prefix)]:
            del self._last[key]


# ------------------------------------------------------------------------------ parsers


def parse_psi(text: str) -> dict[str, float]:
    """``/proc/pressure/*`` or a cgroup's ``*.pressure``: {"some": avg10, "full": avg10}."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        for field in rest.split():
            if field.startswith("avg10="):
                out[kind] = float(field[6:])
                break
    return out


def parse_kv(text: str) -> dict[str, int]:
    """Lines of ``key value`` (``/proc/meminfo`` without its kB, ``cpu.stat``, ``memory.stat``)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.replace(":", " ").split()
        if len(parts) >= 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def find_counter(text: str, name: str) -> int | None:
    """One ``name value`` line of ``/proc/vmstat`` without splitting the other ~170."""
    key = name + " "
    if text.startswith(key):
        i = 0
    else:
        i = text.find("\n" + key) + 1
        if i == 0:
            return None
    end = text.find("\n", i)
    value = text[i + len(key): end if end >= 0 else None].strip()
    return int(value) if value.isdigit() else None


def parse_cpu_stat(text: str) -> tuple[int, int, int, int] | None:
    """``/proc/stat``'s aggregate line: (total, idle incl. iowait, iowait, steal) in ticks.

    Guest time is already counted in user time, so only the first eight fields add up.
    """
    if not text.startswith("cpu "):
        return None
    f = [int(x) for x in text[4: text.find("\n")].split()[:8]]
    f += [0] * (8 - len(f))
    return sum(f), f[3] + f[4], f[4], f[7]


def parse_diskstats(text: str) -> tuple[int, int, dict[str, int]]:
    """Whole disks of ``/proc/diskstats``: (sectors read, sectors written, {disk: io ms})."""
    read = written = 0
    busy: dict[str, int] = {}
    for line in text.splitlines():
        p = line.split()
        if len(p) < 14 or not is_whole_disk(p[2]):
            continue
        read += int(p[5])
        written += int(p[9])
        busy[p[2]] = int(p[12])
    return read, written, busy


def parse_net_dev(text: str) -> dict[str, tuple[int, int, int, int]]:
    """Physical interfaces of ``/proc/net/dev``: {iface: (rx bytes, tx bytes, errs, drops)}."""
    out: dict[str, tuple[int, int, int, int]] = {}
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        name = name.strip()
        if not sep or is_virtual_iface(name):
            continue
        f = rest.split()
        if len(f) < 12:
            continue
        out[name] = (int(f[0]), int(f[8]), int(f[2]) + int(f[10]), int(f[3]) + int(f[11]))
    return out


def parse_io_stat(text: str) -> tuple[int, int]:
    """A cgroup's ``io.stat``: (bytes read, bytes written) summed over devices."""
    rbytes = wbytes = 0
    for line in text.splitlines():
        for field in line.split()[1:]:
            if field.startswith("rbytes="):
                rbytes += int(field[7:])
            elif field.startswith("wbytes="):
                wbytes += int(field[7:])
    return rbytes, wbytes


def parse_limit(text: str | None) -> int | None:
    """``memory.max`` / ``memory.high``: bytes, or None for "max" (no limit)."""
    value = (text or "").strip()
    return int(value) if value.isdigit() else None


def parse_cpu_max(text: str | None) -> float | None:
    """``cpu.max`` (``"150000 100000"``) as cores of quota, or None for no quota."""
    parts = (text or "").split()
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit() and int(parts[1]) > 0:
        return int(parts[0]) / int(parts[1])
    return None


VMSTAT_RATES = (("pgfault", "mem.page_faults_s"), ("pgmajfault", "mem.major_faults_s"))
PSI_METRICS = (
    ("cpu", "some", "psi.cpu.some_avg10"),
    ("memory", "some", "psi.mem.some_avg10"),
    ("memory", "full", "psi.mem.full_avg10"),
    ("io", "some", "psi.io.some_avg10"),
    ("io", "full", "psi.io.full_avg10"),
)


def put_psi(metrics: dict[str, float], read: Mapping[str, str | None]) -> None:
    """PSI avg10 values (percent of time stalled) from the texts of cpu, memory and io."""
    parsed = {res: parse_psi(text) for res, text in read.items() if text}
    for res, kind, name in PSI_METRICS:
        value = parsed.get(res, {}).get(kind)
        if value is not None:
            metrics[name] = value


def clamp01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


# ------------------------------------------------------------------------------ the host


class HostCollector:
    """This host's CPU, load, memory, swap, page faults, disks, network and PSI.

    Reads ``proc_root`` (and ``sys_root`` for link speeds); falls back to psutil when
    ``proc_root/stat`` is not there (another OS). ``mounts``: filesystems whose fullest
    one gives ``disk.used_pct``.
    """

    def __init__(
        self,
        host: str,
        *,
        proc_root: str = "/proc",
        sys_root: str = "/sys",
        mounts: Sequence[str] = ("/",),
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.host = host
        self.proc = proc_root.rstrip("/")
        self.sys = sys_root.rstrip("/")
        self.mounts = tuple(mounts)
        self.tags = dict(tags or {})
        self.rates = Rates()
        self._cpu_prev: tuple[int, int, int, int] | None = None
        self._speeds: dict[str, float] = {}
        self._psutil = not os.path.exists(f"{self.proc}/stat") and proc_root == "/proc"

    def collect(self, ts_ms: int, mono_s: float) -> list[Sample]:
        m: dict[str, float] = {}
        if self._psutil:
            self._from_psutil(m, mono_s)
        else:
            self._cpu(m)
            self._load(m)
            self._memory(m)
            self._vmstat(m, mono_s)
            self._disks(m, mono_s)
            self._net(m, mono_s)
            put_psi(m, {r: read_text(f"{self.proc}/pressure/{r}") for r in ("cpu", "memory", "io")})
        self._disk_usage(m)
        return [Sample(self.host, self.host, ts_ms, m, self.tags)] if m else []

    def close(self) -> None:
        pass

    def _cpu(self, m: dict[str, float]) -> None:
        text = read_text(f"{self.proc}/stat")
        now = parse_cpu_stat(text) if text else None
        if now is None:
            return
        prev, self._cpu_prev = self._cpu_prev, now
        if prev is None:
            return
        total = now[0] - prev[0]
        if total <= 0:
            return
        m["cpu.util"] = clamp01(1.0 - (now[1] - prev[1]) / total)
        m["cpu.iowait"] = clamp01((now[2] - prev[2]) / total)
        m["cpu.steal"] = clamp01((now[3] - prev[3]) / total)

    def _load(self, m: dict[str, float]) -> None:
        text = read_text(f"{self.proc}/loadavg")
        if text:
            f = text.split()
            m["load.1m"], m["load.5m"], m["load.15m"] = float(f[0]), float(f[1]), float(f[2])

    def _memory(self, m: dict[str, float]) -> None:
        text = read_text(f"{self.proc}/meminfo")
        if not text:
            return
        kv = parse_kv(text)
        total = kv.get("MemTotal", 0)
        if total > 0:
            avail = kv.get("MemAvailable")
            if avail is None:  # kernels before 3.14
                avail = kv.get("MemFree", 0) + kv.get("Buffers", 0) + kv.get("Cached", 0)
            m["mem.used_pct"] = 100.0 * (1.0 - min(avail, total) / total)
        swap = kv.get("SwapTotal")
        if swap is not None:
            m["swap.used_pct"] = 100.0 * (1.0 - kv.get("SwapFree", 0) / swap) if swap else 0.0

    def _vmstat(self, m: dict[str, float], mono_s: float) -> None:
        text = read_text(f"{self.proc}/vmstat")
        if not text:
            return
        for counter, name in VMSTAT_RATES:
            value = find_counter(text, counter)
            if value is not None:
                r = self.rates.rate(name, value, mono_s)
                if r is not None:
                    m[name] = r

    def _disks(self, m: dict[str, float], mono_s: float) -> None:
        text = read_text(f"{self.proc}/diskstats")
        if not text:
            return
        read, written, busy = parse_diskstats(text)
        self._put_rate(m, "disk.read_bytes_s", read * SECTOR_BYTES, mono_s)
        self._put_rate(m, "disk.write_bytes_s", written * SECTOR_BYTES, mono_s)
        utils = [r for d, ms in busy.items() if (r := self.rates.rate(f"io:{d}", ms, mono_s))
                 is not None]
        if busy and len(utils) == len(busy):  # ms busy per s / 1000 → fraction, busiest disk
            m["disk.io_util"] = clamp01(max(utils) / 1000.0)

    def _net(self, m: dict[str, float], mono_s: float) -> None:
        text = read_text(f"{self.proc}/net/dev")
        if not text:
            return
        ifaces = parse_net_dev(text)
        sums = [sum(v[i] for v in ifaces.values()) for i in range(4)]
        for i, name in enumerate(("net.rx_bytes_s", "net.tx_bytes_s", "net.errors_s",
                                  "net.drops_s")):
            self._put_rate(m, name, sums[i], mono_s)
        utils = []
        for iface, (rx, tx, _, _) in ifaces.items():
            speed = self._speed(iface)
            r, t = self.rates.rate(f"rx:{iface}", rx, mono_s), self.rates.rate(f"tx:{iface}", tx,
                                                                                mono_s)
            if speed and r is not None and t is not None:
                utils.append(max(r, t) / speed)
        if utils:
            m["net.util"] = clamp01(max(utils))

    def _speed(self, iface: str) -> float:
        """Link speed in bytes/s from sysfs (0 when unknown: virtual, down, wireless)."""
        if iface not in self._speeds:
            text = read_text(f"{self.sys}/class/net/{iface}/speed")
            mbit = int(text.strip()) if text and text.strip().isdigit() else 0
            self._speeds[iface] = mbit * 125_000.0
        return self._speeds[iface]

    def _disk_usage(self, m: dict[str, float]) -> None:
        pcts = []
        for mount in self.mounts:
            try:
                st = os.statvfs(mount)
            except OSError:
                continue
            used = st.f_blocks - st.f_bfree
            if used + st.f_bavail > 0:  # as df: used / (used + available to users)
                pcts.append(100.0 * used / (used + st.f_bavail))
        if pcts:
            m["disk.used_pct"] = max(pcts)

    def _put_rate(self, m: dict[str, float], name: str, value: float, mono_s: float) -> None:
        r = self.rates.rate(name, value, mono_s)
        if r is not None:
            m[name] = r

    def _from_psutil(self, m: dict[str, float], mono_s: float) -> None:
        import psutil  # type: ignore[import-untyped,unused-ignore]

        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        total = sum(times)
        prev, now = self._cpu_prev, (int(total * 100), int(idle * 100), 0, 0)
        self._cpu_prev = now
        if prev is not None and now[0] > prev[0]:
            m["cpu.util"] = clamp01(1 - (now[1] - prev[1]) / (now[0] - prev[0]))
        try:
            m["load.1m"], m["load.5m"], m["load.15m"] = os.getloadavg()
        except OSError:
            pass
        m["mem.used_pct"] = float(psutil.virtual_memory().percent)
        m["swap.used_pct"] = float(psutil.swap_memory().percent)
        io = psutil.disk_io_counters()
        if io is not None:
            self._put_rate(m, "disk.read_bytes_s", io.read_bytes, mono_s)
            self._put_rate(m, "disk.write_bytes_s", io.write_bytes, mono_s)
        nics = psutil.net_io_counters(pernic=True)
        phys = [c for n, c in nics.items() if not is_virtual_iface(n)]
        for name, attr in (("net.rx_bytes_s", "bytes_recv"), ("net.tx_bytes_s", "bytes_sent")):
            self._put_rate(m, name, sum(getattr(c, attr) for c in phys), mono_s)
        errs = sum(c.errin + c.errout for c in phys)
        self._put_rate(m, "net.errors_s", errs, mono_s)


# ---------------------------------------------------------------------------- cgroups v2


class CgroupCollector:
    """One sample per cgroup matching ``patterns`` (globs under ``root``), as component
    ``<host>/<leaf name>`` (``web-17/nginx.service``).

    Globs are expanded again every ``rescan_every`` collections, so services that start
    later are picked up and gone ones dropped. Without a CPU quota, ``cpu.util`` is the
    share of the host's ``cpu_count`` CPUs.
    """

    def __init__(
        self,
        host: str,
        patterns: Sequence[str],
        *,
        root: str = "/sys/fs/cgroup",
        rescan_every: int = 6,
        cpu_count: int | None = None,
    ) -> None:
        for p in patterns:
            if os.path.isabs(p) or ".." in Path(p).parts:
                raise ValueError(f"cgroup pattern {p!r} must be relative to the cgroup root")
        self.host = host
        self.patterns = tuple(patterns)
        self.root = root.rstrip("/") or "/"
        self.rescan_every = max(1, rescan_every)
        self.cpu_count = cpu_count or os.cpu_count() or 1
        self.rates = Rates()
        self._groups: dict[str, str] = {}  # leaf name → path
        self._n = 0

    def rescan(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for pattern in self.patterns:
            for path in sorted(glob.glob(os.path.join(self.root, pattern))):
                if not os.path.isdir(path):
                    continue
                leaf = os.path.basename(path.rstrip("/"))
                if leaf in found and found[leaf] != path:
                    log.warning("cgroups %s and %s share the leaf name %r; keeping the first",
                                found[leaf], path, leaf)
                    continue
                found[leaf] = path
        for leaf in set(self._groups) - set(found):
            self.rates.forget(leaf + "|")
        self._groups = found
        return found

    def collect(self, ts_ms: int, mono_s: float) -> list[Sample]:
        if self._n % self.rescan_every == 0:
            self.rescan()
        self._n += 1
        out = []
        for leaf, path in self._groups.items():
            m = self._one(leaf, path, mono_s)
            if m:
                rel = os.path.relpath(path, self.root)
                out.append(Sample(f"{self.host}/{leaf}", self.host, ts_ms, m, {"cgroup": rel}))
        return out

    def close(self) -> None:
        pass

    def _one(self, leaf: str, path: str, mono_s: float) -> dict[str, float]:
        m: dict[str, float] = {}
        key = leaf + "|"
        cpu = read_text(f"{path}/cpu.stat")
        if cpu:
            kv = parse_kv(cpu)
            if "usage_usec" in kv:
                cores = self.rates.rate(key + "usage", kv["usage_usec"] / 1e6, mono_s)
                if cores is not None:
                    m["cpu.cores"] = cores
                    quota = parse_cpu_max(read_text(f"{path}/cpu.max"))
                    m["cpu.util"] = clamp01(cores / (quota or self.cpu_count))
            if "throttled_usec" in kv:
                thr = self.rates.rate(key + "throttled", kv["throttled_usec"] / 1e6, mono_s)
                if thr is not None:
                    m["cpu.throttled_s"] = thr
        current = parse_limit(read_text(f"{path}/memory.current"))
        if current is not None:
            stat = read_text(f"{path}/memory.stat")
            inactive = parse_kv(stat).get("inactive_file", 0) if stat else 0
            working = max(current - inactive, 0)  # what the kernel cannot simply drop
            m["mem.used_bytes"] = float(working)
            limits = [x for x in (parse_limit(read_text(f"{path}/memory.max")),
                                  parse_limit(read_text(f"{path}/memory.high"))) if x]
            if limits:
                m["mem.used_pct"] = min(100.0, 100.0 * working / min(limits))
        io = read_text(f"{path}/io.stat")
        if io is not None:
            rbytes, wbytes = parse_io_stat(io)
            for name, value in (("disk.read_bytes_s", rbytes), ("disk.write_bytes_s", wbytes)):
                r = self.rates.rate(key + name, value, mono_s)
                if r is not None:
                    m[name] = r
        put_psi(m, {r: read_text(f"{path}/{r}.pressure") for r in ("cpu", "memory", "io")})
        return m


# ---------------------------------------------------------------------------- HTTP probes


class ProbeResult(NamedTuple):
    name: str
    ts: int
    status: int  # 0: no HTTP response (refused, timeout, DNS)
    latency_ms: float | None  # None when no response came back


def parse_probe(spec: str) -> tuple[str, str]:
    """``NAME=URL`` → (name, url); only http(s) URLs."""
    name, sep, url = spec.partition("=")
    if not sep or not name or not url.startswith(("http://", "https://")):
        raise ValueError(f"probe {spec!r}: expected NAME=http(s)://...")
    return name, url


class HttpProbes:
    """GET each URL once per collection, in a background thread so a slow endpoint never
    delays the host loop; each result is reported at the next collection, stamped with the
    time of the collection that started it.

    Per probe, component ``<host>/<name>``: ``http.status`` (0: no response),
    ``http.latency_ms``, and over the last ``window`` probes ``errors.rate`` (share with no
    response or a status >= 400) and ``latency.p99_ms`` (nearest rank; a timeout counts as
    the timeout).
    """

    def __init__(
        self,
        host: str,
        probes: Mapping[str, str],
        *,
        timeout_s: float = 2.0,
        window: int = 30,
    ) -> None:
        self.host = host
        self.probes = dict(probes)
        self.timeout_s = timeout_s
        self.skipped = 0  # rounds not started because the last one was still running
        self._windows = {name: ProbeWindow(window) for name in self.probes}
        self._done: list[ProbeResult] = []
        self._lock = threading.Lock()
        self._due: int | None = None
        self._wake = threading.Event()
        self._stop = False
        self._busy = False
        self._thread: threading.Thread | None = None

    def collect(self, ts_ms: int, mono_s: float) -> list[Sample]:
        with self._lock:
            done, self._done = self._done, []
            if self._busy or self._due is not None:
                self.skipped += 1
            else:
                self._due = ts_ms
                self._wake.set()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="forewarn-probes",
                                            daemon=True)
            self._thread.start()
        return [self._sample(r) for r in done]

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.timeout_s * max(1, len(self.probes)) + 1)

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            if self._stop:
                return
            with self._lock:
                self._wake.clear()
                ts, self._due = self._due, None
                self._busy = ts is not None
            if ts is None:
                continue
            results = [self.probe(name, url, ts) for name, url in self.probes.items()]
            with self._lock:
                self._done.extend(results)
                self._busy = False

    def probe(self, name: str, url: str, ts_ms: int) -> ProbeResult:
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as resp:
                resp.read(65536)
                status = int(resp.status)
        except urllib.error.HTTPError as exc:
            status = int(exc.code)
            exc.close()
        except TimeoutError:
            return ProbeResult(name, ts_ms, 0, self.timeout_s * 1000.0)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if isinstance(getattr(exc, "reason", None), TimeoutError):
                return ProbeResult(name, ts_ms, 0, self.timeout_s * 1000.0)
            return ProbeResult(name, ts_ms, 0, None)
        return ProbeResult(name, ts_ms, status, (time.perf_counter() - t0) * 1000.0)

    def _sample(self, r: ProbeResult) -> Sample:
        m = self._windows[r.name].add(r.status, r.latency_ms)
        return Sample(f"{self.host}/{r.name}", self.host, r.ts, m, {"probe": self.probes[r.name]})


class ProbeWindow:
    """The last ``size`` results of one probe, and the metrics they give.

    >>> w = ProbeWindow(4)
    >>> w.add(200, 12.0)["errors.rate"], w.add(0, None)["errors.rate"]
    (0.0, 0.5)
    """

    def __init__(self, size: int = 30) -> None:
        self._history: deque[tuple[bool, float | None]] = deque(maxlen=max(1, size))

    def add(self, status: int, latency_ms: float | None) -> dict[str, float]:
        history = self._history
        history.append((status == 0 or status >= 400, latency_ms))
        m = {"http.status": float(status),
             "errors.rate": sum(1 for bad, _ in history if bad) / len(history)}
        if latency_ms is not None:
            m["http.latency_ms"] = latency_ms
        latencies = sorted(x for _, x in history if x is not None)
        if latencies:
            rank = -(-99 * len(latencies) // 100)  # nearest rank: ceil(0.99 n), 1-based
            m["latency.p99_ms"] = latencies[rank - 1]
        return m


def close_all(collectors: Iterable[Collector]) -> None:
    for c in collectors:
        try:
            c.close()
        except Exception:  # closing must not hide the reason we are stopping
            log.exception("closing collector %r", c)
