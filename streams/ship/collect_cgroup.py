"""cgroup v2 collector for ``forewarn ship``: one sample per matching cgroup, as component
``<host>/<leaf name>``."""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from streams.ship.collect_base import Rates, Sample, clamp01, parse_kv, put_psi, read_text

log = logging.getLogger(__name__)


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
        """Nothing to release: every file is opened and closed within one collection."""

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
