"""Host-metric rules that several formats share: which devices a host aggregate counts, and
how per-CPU, per-interface, per-disk, per-filesystem and request-duration series join into
forewarn's host metrics (cpu.util, net.rx_bytes_s, disk.io_util, latency.p99_ms, ...).

A rule takes a series' own tags and returns what to do with its points (an ``Emit`` or a
``Join``), or None to let them pass through under their own names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from streams.ingest.base import Emit, Join
from streams.ingest.common import quantile_name, series_key, time_scale_ms

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


LATENCY = re.compile(
    r"(request|requests|server|rpc|response)[._](duration|latency)|http[._]server[._]requests"
)
_CPU_MODES = {"io_wait": "iowait", "wait": "iowait", "interrupt": "irq"}
MEM_PARTS = frozenset({"avail", "total"})

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


def mem_part(part: str) -> Rule:
    """Available or total memory (``part``: "avail" or "total") → mem.used_pct, once both came."""
    action = Join("mem", part, ("used_pct", "avail", "total", "mem.used_pct"), MEM_PARTS)
    return lambda s: action


def node_rules(prefix: str) -> dict[str, Rule]:
    """The rules of the names that node_exporter (``prefix`` "node_") and Vector's
    host_metrics (no prefix) share."""
    return {
        f"{prefix}load1": lambda s: Emit("load.1m"),
        f"{prefix}load5": lambda s: Emit("load.5m"),
        f"{prefix}load15": lambda s: Emit("load.15m"),
        f"{prefix}network_receive_bytes_total": iface_sum("net:rx", "net.rx_bytes_s"),
        f"{prefix}network_transmit_bytes_total": iface_sum("net:tx", "net.tx_bytes_s"),
        f"{prefix}disk_read_bytes_total": disk_agg("disk:read", ("sum", "disk.read_bytes_s")),
        f"{prefix}disk_written_bytes_total": disk_agg("disk:write",
                                                      ("sum", "disk.write_bytes_s")),
    }
