"""Collectors for ``forewarn ship``: this host's metrics here, its cgroups' in
``collect_cgroup``, HTTP probes' in ``probes``; all of them are importable from here.

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

import contextlib
import os
from collections.abc import Mapping, Sequence

from streams.ingest.hostrules import is_virtual_iface, is_whole_disk
from streams.ship.collect_base import (
    Collector,
    Rates,
    Sample,
    clamp01,
    close_all,
    parse_kv,
    parse_psi,
    put_psi,
    read_text,
)
from streams.ship.collect_cgroup import CgroupCollector, parse_cpu_max
from streams.ship.probes import HttpProbes, ProbeResult, ProbeWindow, parse_probe

__all__ = [
    "CgroupCollector", "Collector", "HostCollector", "HttpProbes", "ProbeResult", "ProbeWindow",
    "Sample", "close_all", "find_counter", "parse_cpu_max", "parse_cpu_stat", "parse_diskstats",
    "parse_net_dev", "parse_probe", "parse_psi",
]

SECTOR_BYTES = 512  # /proc/diskstats counts 512-byte sectors whatever the device's own size

# ------------------------------------------------------------------------------ parsers


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


VMSTAT_RATES = (("pgfault", "mem.page_faults_s"), ("pgmajfault", "mem.major_faults_s"))

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
        """Nothing to release: every file is opened and closed within one collection."""

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
        import psutil

        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        total = sum(times)
        prev, now = self._cpu_prev, (int(total * 100), int(idle * 100), 0, 0)
        self._cpu_prev = now
        if prev is not None and now[0] > prev[0]:
            m["cpu.util"] = clamp01(1 - (now[1] - prev[1]) / (now[0] - prev[0]))
        with contextlib.suppress(OSError):  # no load average on this platform: leave it out
            m["load.1m"], m["load.5m"], m["load.15m"] = os.getloadavg()
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
