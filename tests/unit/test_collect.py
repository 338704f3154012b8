"""The shipper's collectors on directory trees laid out like /proc, /sys and cgroup v2."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.ship.collect import (
    CgroupCollector,
    HostCollector,
    ProbeWindow,
    find_counter,
    parse_cpu_max,
    parse_probe,
    parse_psi,
)

NET_HEADER = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
)


def net_line(iface: str, rx: int, tx: int, errs: int = 0, drops: int = 0) -> str:
    return f"{iface:>6}: {rx} 10 {errs} {drops} 0 0 0 0 {tx} 10 {errs} {drops} 0 0 0 0\n"


def disk_line(name: str, sectors_read: int, sectors_written: int, io_ms: int) -> str:
    return (f"   8       0 {name} 100 0 {sectors_read} 50 200 0 {sectors_written} 70 0 "
            f"{io_ms} 120 0 0 0 0 0 0\n")


def write_proc(
    root: Path, *, cpu: tuple[int, ...], pgfault: int, disks: str, net: str,
    meminfo: str | None = None,
) -> None:
    (root / "net").mkdir(parents=True, exist_ok=True)
    (root / "pressure").mkdir(exist_ok=True)
    (root / "stat").write_text("cpu  " + " ".join(map(str, cpu)) + "\ncpu0 1 2 3 4\nintr 5\n")
    (root / "loadavg").write_text("0.52 0.40 0.31 2/345 6789\n")
    (root / "meminfo").write_text(meminfo or (
        "MemTotal:       1000000 kB\nMemFree:         100000 kB\nMemAvailable:    250000 kB\n"
        "SwapTotal:       200000 kB\nSwapFree:        150000 kB\n"))
    (root / "vmstat").write_text(f"nr_free_pages 5\npgfault {pgfault}\npgmajfault 7\npgfree 9\n")
    (root / "diskstats").write_text(disks)
    (root / "net" / "dev").write_text(NET_HEADER + net)
    (root / "pressure" / "cpu").write_text(
        "some avg10=12.50 avg60=3.00 avg300=1.00 total=100\n")
    (root / "pressure" / "memory").write_text(
        "some avg10=1.25 avg60=0.00 avg300=0.00 total=10\n"
        "full avg10=0.50 avg60=0.00 avg300=0.00 total=5\n")
    (root / "pressure" / "io").write_text(
        "some avg10=4.00 avg60=0.00 avg300=0.00 total=10\n"
        "full avg10=2.00 avg60=0.00 avg300=0.00 total=5\n")


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    root = tmp_path / "proc"
    write_proc(
        root, cpu=(100, 0, 100, 700, 50, 0, 0, 50, 10, 0), pgfault=1000,
        disks=disk_line("sda", 0, 0, 0) + disk_line("sda1", 0, 0, 0)
        + disk_line("nvme0n1", 0, 0, 0) + disk_line("loop0", 0, 0, 0),
        net=net_line("lo", 0, 0) + net_line("eth0", 0, 0) + net_line("veth1a2b", 0, 0),
    )
    speed = tmp_path / "sys" / "class" / "net" / "eth0"
    speed.mkdir(parents=True)
    (speed / "speed").write_text("1000\n")  # Mb/s: 125 MB/s
    return root


def collector(proc: Path, tmp_path: Path) -> HostCollector:
    return HostCollector("web-17", proc_root=str(proc), sys_root=str(tmp_path / "sys"),
                         mounts=[str(tmp_path)], tags={"role": "web"})


def test_first_collection_gives_gauges_then_rates(proc: Path, tmp_path: Path) -> None:
    c = collector(proc, tmp_path)
    [first] = c.collect(1_000, 100.0)
    assert (first.component, first.host, first.ts, first.tags) == ("web-17", "web-17", 1_000,
                                                                   {"role": "web"})
    m = first.metrics
    assert m["load.1m"] == 0.52 and m["load.5m"] == 0.40 and m["load.15m"] == 0.31
    assert m["mem.used_pct"] == pytest.approx(75.0)
    assert m["swap.used_pct"] == pytest.approx(25.0)
    assert m["psi.cpu.some_avg10"] == 12.5 and m["psi.mem.some_avg10"] == 1.25
    assert m["psi.mem.full_avg10"] == 0.5 and m["psi.io.some_avg10"] == 4.0
    assert m["psi.io.full_avg10"] == 2.0
    assert 0.0 < m["disk.used_pct"] < 100.0
    assert not {"cpu.util", "mem.page_faults_s", "disk.io_util", "net.rx_bytes_s"} & set(m)

    # 10 s later: 1000 more ticks, of which idle 300 + iowait 100 and steal 50
    write_proc(
        proc, cpu=(450, 0, 300, 1000, 150, 0, 0, 100, 10, 0), pgfault=6000,
        disks=disk_line("sda", 2000, 4000, 5000) + disk_line("sda1", 999, 999, 9999)
        + disk_line("nvme0n1", 20, 0, 2000) + disk_line("loop0", 999, 999, 9999),
        net=net_line("lo", 10**9, 10**9) + net_line("eth0", 50_000_000, 10_000_000, 3, 2)
        + net_line("veth1a2b", 10**9, 10**9),
    )
    [second] = c.collect(11_000, 110.0)
    m = second.metrics
    assert m["cpu.util"] == pytest.approx(0.6)
    assert m["cpu.iowait"] == pytest.approx(0.1) and m["cpu.steal"] == pytest.approx(0.05)
    assert m["mem.page_faults_s"] == pytest.approx(500.0) and m["mem.major_faults_s"] == 0.0
    # whole disks only (no partitions, no loop devices); sectors are 512 bytes
    assert m["disk.read_bytes_s"] == pytest.approx((2000 + 20) * 512 / 10)
    assert m["disk.write_bytes_s"] == pytest.approx(4000 * 512 / 10)
    assert m["disk.io_util"] == pytest.approx(0.5)  # the busiest disk: 5000 ms in 10 s
    # physical interfaces only (no loopback, no veth)
    assert m["net.rx_bytes_s"] == pytest.approx(5_000_000.0)
    assert m["net.tx_bytes_s"] == pytest.approx(1_000_000.0)
    assert m["net.errors_s"] == pytest.approx(0.6) and m["net.drops_s"] == pytest.approx(0.4)
    assert m["net.util"] == pytest.approx(5_000_000 / 125_000_000)


def test_counters_that_go_backwards_give_no_rate(proc: Path, tmp_path: Path) -> None:
    c = collector(proc, tmp_path)
    c.collect(0, 0.0)
    write_proc(proc, cpu=(1, 0, 1, 1, 0, 0, 0, 0, 0, 0), pgfault=10, disks="", net="")
    m = c.collect(10_000, 10.0)[0].metrics
    assert "cpu.util" not in m and "mem.page_faults_s" not in m


def test_missing_files_leave_their_metrics_out(tmp_path: Path) -> None:
    root = tmp_path / "proc"
    root.mkdir()
    c = HostCollector("h", proc_root=str(root), mounts=())
    assert c.collect(0, 0.0) == []  # nothing readable: no sample at all
    (root / "loadavg").write_text("1.00 2.00 3.00 1/1 1\n")
    (root / "meminfo").write_text("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\n"
                                  "Cached: 300 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n")
    m = c.collect(1, 1.0)[0].metrics
    assert m == {"load.1m": 1.0, "load.5m": 2.0, "load.15m": 3.0,
                 "mem.used_pct": pytest.approx(50.0), "swap.used_pct": 0.0}


def test_parsers() -> None:
    assert parse_psi("some avg10=0.10 avg60=0.00 avg300=0.00 total=1\n") == {"some": 0.1}
    assert find_counter("pgfault 5\npgmajfault 6\n", "pgfault") == 5
    assert find_counter("a 1\npgmajfault 6", "pgmajfault") == 6
    assert find_counter("pgfault 5\n", "pgmajfault") is None
    assert parse_cpu_max("max 100000\n") is None and parse_cpu_max("50000 100000") == 0.5
    assert parse_probe("api=http://127.0.0.1:8080/health") == ("api",
                                                               "http://127.0.0.1:8080/health")
    for bad in ("api", "=http://x", "api=file:///etc/passwd"):
        with pytest.raises(ValueError):
            parse_probe(bad)


def test_probe_window_error_rate_and_p99() -> None:
    w = ProbeWindow(4)
    assert w.add(200, 10.0) == {"http.status": 200.0, "errors.rate": 0.0,
                                "http.latency_ms": 10.0, "latency.p99_ms": 10.0}
    w.add(503, 30.0)
    w.add(0, None)  # refused: no latency, an error
    m = w.add(200, 20.0)
    assert m["errors.rate"] == 0.5 and m["latency.p99_ms"] == 30.0
    m = w.add(200, 5.0)  # the first result leaves the window
    assert m["errors.rate"] == 0.5 and m["latency.p99_ms"] == 30.0
    assert "http.latency_ms" not in w.add(0, None)


# ------------------------------------------------------------------------------ cgroups


def cgroup(root: Path, rel: str, *, usage_usec: int, throttled_usec: int = 0,
           cpu_max: str = "max 100000", current: int = 0, mem_max: str = "max",
           mem_high: str = "max", inactive_file: int = 0, rbytes: int = 0,
           wbytes: int = 0, psi: bool = True) -> Path:
    d = root / rel
    d.mkdir(parents=True, exist_ok=True)
    (d / "cpu.stat").write_text(
        f"usage_usec {usage_usec}\nuser_usec 1\nsystem_usec 1\nnr_periods 0\n"
        f"nr_throttled 0\nthrottled_usec {throttled_usec}\n")
    (d / "cpu.max").write_text(cpu_max + "\n")
    (d / "memory.current").write_text(f"{current}\n")
    (d / "memory.max").write_text(mem_max + "\n")
    (d / "memory.high").write_text(mem_high + "\n")
    (d / "memory.stat").write_text(f"anon 5\nfile 9\ninactive_file {inactive_file}\n")
    (d / "io.stat").write_text(
        f"8:0 rbytes={rbytes} wbytes={wbytes} rios=1 wios=1 dbytes=0 dios=0\n"
        f"8:16 rbytes={rbytes} wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n")
    if psi:
        (d / "cpu.pressure").write_text("some avg10=3.00 avg60=0 avg300=0 total=1\n"
                                        "full avg10=1.00 avg60=0 avg300=0 total=1\n")
        (d / "memory.pressure").write_text("some avg10=2.00 avg60=0 avg300=0 total=1\n"
                                           "full avg10=1.50 avg60=0 avg300=0 total=1\n")
        (d / "io.pressure").write_text("some avg10=6.00 avg60=0 avg300=0 total=1\n"
                                       "full avg10=5.00 avg60=0 avg300=0 total=1\n")
    return d


def test_cgroups_by_glob_with_quota_limits_io_and_pressure(tmp_path: Path) -> None:
    cgroup(tmp_path, "system.slice/api.service", usage_usec=0, cpu_max="200000 100000",
           current=300 << 20, mem_max=str(400 << 20), inactive_file=100 << 20)
    cgroup(tmp_path, "system.slice/db.service", usage_usec=0, current=50, psi=False)
    cgroup(tmp_path, "system.slice/cron.timer", usage_usec=0)
    cgroup(tmp_path, "user.slice/user-1000.slice", usage_usec=0)
    c = CgroupCollector("web-17", ["system.slice/*.service"], root=str(tmp_path), cpu_count=4)
    first = {s.component: s for s in c.collect(0, 0.0)}
    assert set(first) == {"web-17/api.service", "web-17/db.service"}
    api = first["web-17/api.service"]
    assert api.host == "web-17" and api.tags == {"cgroup": "system.slice/api.service"}
    # working set: current less inactive page cache, against memory.max
    assert api.metrics["mem.used_bytes"] == 200 << 20
    assert api.metrics["mem.used_pct"] == pytest.approx(50.0)
    assert api.metrics["psi.cpu.some_avg10"] == 3.0 and api.metrics["psi.mem.full_avg10"] == 1.5
    assert api.metrics["psi.io.some_avg10"] == 6.0 and api.metrics["psi.io.full_avg10"] == 5.0
    assert "cpu.util" not in api.metrics
    db = first["web-17/db.service"].metrics
    assert db["mem.used_bytes"] == 50 and "mem.used_pct" not in db  # no limit: no percentage
    assert not any(k.startswith("psi.") for k in db)

    # 10 s later: api used 15 CPU-seconds (1.5 cores of a 2-core quota), db 10 (of 4 CPUs)
    cgroup(tmp_path, "system.slice/api.service", usage_usec=15_000_000,
           throttled_usec=2_000_000, cpu_max="200000 100000", current=300 << 20,
           mem_max=str(400 << 20), inactive_file=100 << 20, rbytes=1_000_000, wbytes=500_000)
    cgroup(tmp_path, "system.slice/db.service", usage_usec=10_000_000, current=50,
           mem_high=str(100), psi=False)
    later = {s.component: s.metrics for s in c.collect(10_000, 10.0)}
    api_m, db_m = later["web-17/api.service"], later["web-17/db.service"]
    assert api_m["cpu.cores"] == pytest.approx(1.5) and api_m["cpu.util"] == pytest.approx(0.75)
    assert api_m["cpu.throttled_s"] == pytest.approx(0.2)
    assert api_m["disk.read_bytes_s"] == pytest.approx(200_000.0)
    assert api_m["disk.write_bytes_s"] == pytest.approx(50_000.0)
    assert db_m["cpu.util"] == pytest.approx(0.25)  # no quota: share of the host's 4 CPUs
    assert db_m["mem.used_pct"] == pytest.approx(50.0)  # memory.high when there is no max


def test_cgroups_come_and_go_on_rescan(tmp_path: Path) -> None:
    cgroup(tmp_path, "system.slice/a.service", usage_usec=1)
    c = CgroupCollector("h", ["system.slice/*.service"], root=str(tmp_path), rescan_every=2)
    assert [s.component for s in c.collect(0, 0.0)] == ["h/a.service"]
    cgroup(tmp_path, "system.slice/b.service", usage_usec=1)
    assert [s.component for s in c.collect(1, 1.0)] == ["h/a.service"]  # not rescanned yet
    assert sorted(s.component for s in c.collect(2, 2.0)) == ["h/a.service", "h/b.service"]
    for f in (tmp_path / "system.slice" / "a.service").iterdir():
        f.unlink()
    (tmp_path / "system.slice" / "a.service").rmdir()
    # gone between rescans: its files are unreadable, so it gives no sample; never an error
    assert [s.component for s in c.collect(3, 3.0)] == ["h/b.service"]


def test_cgroup_patterns_stay_under_the_root(tmp_path: Path) -> None:
    for bad in ("/sys/fs/cgroup/x", "../etc"):
        with pytest.raises(ValueError):
            CgroupCollector("h", [bad], root=str(tmp_path))
