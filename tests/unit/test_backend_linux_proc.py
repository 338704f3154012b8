"""The Linux host agent's per-thread knobs on real child processes: CPU affinity, nice and
ionice, checked through the kernel (``sched_getaffinity``, ``getpriority``, ``ioprio_get``).

Each real-effect test runs twice: on a real cgroup v2 directory (the children are moved in,
so the kernel writes ``cgroup.threads``) where the cgroup v2 mount is writable, and on a plain
directory whose ``cgroup.threads`` / ``cgroup.procs`` the test writes with the children's real
thread ids.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actuators.backends.linux import LinuxBackend
from actuators.backends.linux_proc import (
    IOPRIO_CLASS_BE,
    IOPRIO_CLASS_IDLE,
    IoPrio,
    NiceKnob,
    cgroup_threads,
    ioprio_describe,
    ioprio_value,
)
from schemas.errors import BackendError
from tests.unit.test_backend_linux import command

ROOT = os.geteuid() == 0
IOPRIO = IoPrio()
needs_root = pytest.mark.skipif(not ROOT, reason="changing other processes' affinity, nice "
                                "and I/O priority needs root (CAP_SYS_NICE)")
needs_ioprio = pytest.mark.skipif(not IOPRIO.available, reason="ioprio_get/ioprio_set syscall "
                                  f"numbers unknown on {IOPRIO.machine}")
_names = itertools.count()


def cgroup2_mount() -> Path | None:
    """Where the cgroup v2 hierarchy is mounted read-write, if it is."""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, mount, fstype, opts, *_ = line.split()
        if fstype == "cgroup2" and "rw" in opts.split(","):
            return Path(mount)
    return None


def tids(proc: subprocess.Popen[str]) -> list[int]:
    return sorted(int(t) for t in os.listdir(f"/proc/{proc.pid}/task"))


def rmdir_when_empty(path: Path) -> None:
    """Remove a cgroup directory; the kernel may take a moment to see a reaped child gone."""
    for _ in range(100):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            time.sleep(0.02)
    path.rmdir()


class Service:
    """A service cgroup at ``root/system.slice/api.service`` whose members the test chooses,
    and the child processes it started (stopped by the fixture)."""

    def __init__(self, root: Path, real: bool) -> None:
        self.root, self.real = root, real
        self.path = root / "system.slice" / "api.service"
        self.procs: list[subprocess.Popen[str]] = []
        self.path.mkdir(parents=True)
        if not real:
            (self.path / "cgroup.threads").write_text("")
            (self.path / "cgroup.procs").write_text("")

    def spawn(self, nice: int = 0, cpus: set[int] | None = None) -> subprocess.Popen[str]:
        """A sleeping child with three threads (main + two) at ``nice`` on ``cpus``; the
        threads are made after nice and affinity are set, so they inherit both. ``nice`` is
        absolute, whatever the niceness of the test run (``nice make test``)."""
        setup = f"os.setpriority(os.PRIO_PROCESS, 0, {nice}); " + (
            f"os.sched_setaffinity(0, {cpus!r}); " if cpus else "")
        code = ("import os, threading, time; " + setup +
                "[threading.Thread(target=time.sleep, args=(120,), daemon=True).start() "
                "for _ in range(2)]; print('ready', flush=True); time.sleep(120)")
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        self.procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return proc

    def add(self, proc: subprocess.Popen[str]) -> None:
        """Put ``proc`` (all its threads) into the cgroup."""
        if self.real:
            (self.path / "cgroup.procs").write_text(f"{proc.pid}\n")
            return
        with open(self.path / "cgroup.procs", "a") as f:
            f.write(f"{proc.pid}\n")
        with open(self.path / "cgroup.threads", "a") as f:
            f.write("".join(f"{t}\n" for t in tids(proc)))

    def backend(self, **options: Any) -> LinuxBackend:
        return LinuxBackend.from_options({"cgroup_root": str(self.root), **options},
                                         hosts=("web-1",))

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()


@pytest.fixture(params=["cgroupfs", "directory"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """The service on a real cgroup v2 directory, then on a plain directory."""
    yield from _service(request.param == "cgroupfs", tmp_path)


@pytest.fixture
def plain_service(tmp_path: Path) -> Iterator[Service]:
    """The service on a plain directory only (for files the real cgroup here lacks)."""
    yield from _service(False, tmp_path)


def _service(real: bool, tmp_path: Path) -> Iterator[Service]:
    root = tmp_path
    if real:
        mount = cgroup2_mount()
        if mount is None or not ROOT:
            pytest.skip("no read-write cgroup v2 mount, or not root: the directory variant "
                        "covers the same file protocol")
        root = mount / f"forewarn-test-{os.getpid()}-{next(_names)}"
        try:
            root.mkdir()
        except OSError as exc:
            pytest.skip(f"cannot make a cgroup under {mount}: {exc.strerror}")
    svc = Service(root, real=real)
    try:
        yield svc
    finally:
        svc.stop()
        if svc.real:
            for path in (svc.path, svc.path.parent, root):
                rmdir_when_empty(path)


def masks(proc: subprocess.Popen[str]) -> list[set[int]]:
    return [os.sched_getaffinity(t) for t in tids(proc)]


def nices(proc: subprocess.Popen[str]) -> list[int]:
    return [os.getpriority(os.PRIO_PROCESS, t) for t in tids(proc)]


def ioprios(proc: subprocess.Popen[str]) -> list[str]:
    return [ioprio_describe(IOPRIO.get(t)) for t in tids(proc)]


def two_cpus() -> tuple[int, int]:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip(f"widening affinity needs two CPUs; this process may use only {cpus}")
    return cpus[0], cpus[1]


# ------------------------------------------------------------------------------ affinity
@needs_root
def test_affinity_widens_every_thread_and_restores_its_own_mask(service: Service) -> None:
    c0, c1 = two_cpus()
    first = service.spawn(cpus={c0})
    late = service.spawn(cpus={c1})
    service.add(first)
    assert sorted(cgroup_threads(service.path)) == tids(first)  # what the kernel lists
    assert masks(first) == [{c0}] * 3 and masks(late) == [{c1}] * 3
    backend = service.backend()  # sched mode; lendable: the CPUs this process may use
    out = backend.apply(command("CPU_AFFINITY", amount=1.0, unit="cpus"))
    assert out["status"] == "APPLIED", out["detail"]
    assert masks(first) == [{c0, c1}] * 3 and "on 3 threads" in out["detail"]
    backend.apply(command("CPU_AFFINITY", amount=0.0, unit="cpus"))  # replaces: no extra CPU
    assert masks(first) == [{c0}] * 3
    service.add(late)  # joins after the first grant: counts from the usual original, {c0}
    backend.apply(command("CPU_AFFINITY", amount=1.0, unit="cores"))
    assert masks(first) == [{c0, c1}] * 3 and masks(late) == [{c0, c1}] * 3
    lendable = len(os.sched_getaffinity(0))
    too_many = backend.apply(command("CPU_AFFINITY", amount=float(lendable), unit="cpus"))
    assert too_many["status"] == "FAILED"
    assert f"only {lendable - 1} lendable" in too_many["detail"]
    assert masks(first) == [{c0, c1}] * 3  # a refused grant leaves the last one in force
    assert backend.apply(command("CPU_AFFINITY", "RELEASE", 0.0, "cpus"))["status"] == "APPLIED"
    assert masks(first) == [{c0}] * 3 and masks(late) == [{c0}] * 3
    assert backend.held() == {}


@needs_root
def test_affinity_lends_only_the_cgroups_effective_cpuset(plain_service: Service) -> None:
    service, (c0, _) = plain_service, two_cpus()
    child = service.spawn(cpus={c0})
    service.add(child)
    (service.path / "cpuset.cpus.effective").write_text(f"{c0}\n")
    out = service.backend().apply(command("CPU_AFFINITY", amount=1.0, unit="cpus"))
    assert out["status"] == "FAILED" and "only 0 lendable" in out["detail"]
    assert masks(child) == [{c0}] * 3


@contextlib.contextmanager
def v1_cpuset(cpu: int) -> Iterator[Path]:
    """A cgroup v1 cpuset limited to ``cpu``, removed afterwards (skips without one)."""
    top = Path("/sys/fs/cgroup/cpuset")
    if not ROOT or not (top / "cpuset.cpus").exists():
        pytest.skip("needs root and a cgroup v1 cpuset hierarchy at /sys/fs/cgroup/cpuset")
    path = top / f"forewarn-test-{os.getpid()}-{next(_names)}"
    try:
        path.mkdir()
    except OSError as exc:
        pytest.skip(f"cannot make a cpuset under {top}: {exc.strerror}")
    try:
        (path / "cpuset.cpus").write_text(f"{cpu}\n")
        (path / "cpuset.mems").write_text((top / "cpuset.mems").read_text())
        yield path
    finally:
        rmdir_when_empty(path)


@needs_root
def test_a_cpuset_that_narrows_the_new_mask_fails_and_rolls_back(plain_service: Service) -> None:
    service, (c0, c1) = plain_service, two_cpus()
    with v1_cpuset(c0) as cpuset:
        child = service.spawn(cpus={c0})
        try:
            (cpuset / "cgroup.procs").write_text(f"{child.pid}\n")
            service.add(child)
            backend = service.backend(cpus=f"{c0},{c1}")  # lends c1, which the cpuset denies
            out = backend.apply(command("CPU_AFFINITY", amount=1.0, unit="cpus"))
            assert out["status"] == "FAILED" and "its cpuset does not allow them" in out["detail"]
            assert masks(child) == [{c0}] * 3 and backend.held() == {}
        finally:
            service.stop()
            service.procs.clear()


# ------------------------------------------------------------------------------ nice + ionice
@needs_root
@needs_ioprio
def test_nice_lowers_nice_and_raises_io_priority_then_restores_both(service: Service) -> None:
    plain = service.spawn(nice=10)  # no I/O priority of its own: level (10 + 20) / 5 = 6
    chosen = service.spawn(nice=10)
    be6, idle = ioprio_value(IOPRIO_CLASS_BE, 6), ioprio_value(IOPRIO_CLASS_IDLE, 0)
    for tid in tids(chosen):
        IOPRIO.set(tid, be6)
    IOPRIO.set(tids(chosen)[-1], idle)  # an idle-class thread keeps its class
    service.add(plain)
    service.add(chosen)
    assert ioprios(plain) == ["none"] * 3
    assert ioprios(chosen) == ["best-effort 6", "best-effort 6", "idle 0"]
    backend = service.backend()
    out = backend.apply(command("NICE", amount=3.0, unit="levels"))
    assert out["status"] == "APPLIED", out["detail"]
    assert "nice 7 on 6 threads; ionice best-effort 3" in out["detail"]
    assert nices(plain) == nices(chosen) == [7] * 3
    assert ioprios(plain) == ["best-effort 3"] * 3
    assert ioprios(chosen) == ["best-effort 3", "best-effort 3", "idle 0"]
    backend.apply(command("NICE", amount=8.0, unit="nice"))  # replaces; clamped at level 0
    assert nices(plain) == [2] * 3 and ioprios(plain) == ["best-effort 0"] * 3
    assert ioprios(chosen) == ["best-effort 0", "best-effort 0", "idle 0"]
    backend.apply(command("NICE", amount=1.0, unit="levels"))
    assert nices(chosen) == [9] * 3 and ioprios(plain) == ["best-effort 5"] * 3
    assert backend.apply(command("NICE", "PREEMPT", 0.0, "levels"))["status"] == "APPLIED"
    assert nices(plain) == nices(chosen) == [10] * 3
    assert [IOPRIO.get(t) for t in tids(plain)] == [0] * 3  # class none again, exactly
    assert [IOPRIO.get(t) for t in tids(chosen)] == [be6, be6, idle]
    assert backend.held() == {}


@needs_root
def test_threads_that_join_late_count_from_the_usual_original(service: Service) -> None:
    first, late = service.spawn(nice=10), service.spawn(nice=15)
    service.add(first)
    backend = service.backend(ionice=IOPRIO.available)
    out = backend.apply(command("NICE", amount=5.0, unit="levels"))
    assert out["status"] == "APPLIED" and "nice 5 on 3 threads" in out["detail"]
    assert nices(first) == [5] * 3 and nices(late) == [15] * 3
    service.add(late)
    backend.apply(command("NICE", amount=3.0, unit="levels"))
    assert nices(first) == nices(late) == [7] * 3
    if IOPRIO.available:
        assert ioprios(late) == ["best-effort 3"] * 3  # from the usual nice 10: level 6 - 3
    backend.apply(command("NICE", "RELEASE", 0.0, "levels"))
    assert nices(first) == nices(late) == [10] * 3  # the usual original, not its own 15
    if IOPRIO.available:
        assert ioprios(first) == ioprios(late) == ["none"] * 3
    assert backend.held() == {}


@needs_root
@needs_ioprio
def test_ionice_false_leaves_the_io_priority_alone(service: Service) -> None:
    child = service.spawn(nice=4)
    service.add(child)
    IOPRIO.set(tids(child)[0], ioprio_value(IOPRIO_CLASS_BE, 7))
    backend = service.backend(ionice=False)
    out = backend.apply(command("NICE", amount=4.0, unit="levels"))
    assert out["status"] == "APPLIED" and "ionice" not in out["detail"]
    assert nices(child) == [0] * 3
    assert ioprios(child) == ["best-effort 7", "none", "none"]
    backend.apply(command("NICE", "RELEASE", 0.0, "levels"))
    assert nices(child) == [4] * 3


def test_nice_in_an_empty_cgroup_fails(plain_service: Service) -> None:
    service = plain_service
    out = service.backend().apply(command("NICE", amount=5.0, unit="levels"))
    assert out["status"] == "FAILED" and "no threads" in out["detail"]
    out = service.backend().apply(command("CPU_AFFINITY", amount=1.0, unit="cpus"))
    assert out["status"] == "FAILED" and "no threads" in out["detail"]


def test_ionice_is_refused_clearly_on_an_unknown_architecture(plain_service: Service) -> None:
    service = plain_service
    child = service.spawn(nice=3)
    service.add(child)
    with pytest.raises(BackendError, match='x86_64 and aarch64, not riscv64; set the linux '
                                           'backend option "ionice": false'):
        NiceKnob(ioprio=IoPrio("riscv64")).read(service.path)
    assert nices(child) == [3] * 3
    assert NiceKnob(ionice=False).read(service.path) == {"nice": {str(t): 3 for t in tids(child)}}
    with pytest.raises(BackendError, match="not riscv64"):
        IoPrio("riscv64").set(child.pid, 0)


def test_ioprio_values_are_described_as_ionice_prints_them() -> None:
    assert ioprio_value(IOPRIO_CLASS_BE, 3) == 16387 and ioprio_describe(16387) == "best-effort 3"
    assert ioprio_describe(0) == "none" and ioprio_describe(ioprio_value(1, 0)) == "realtime 0"
    assert NiceKnob.raised_ioprio(0, 10, 3) == ioprio_value(IOPRIO_CLASS_BE, 3)
    assert NiceKnob.raised_ioprio(ioprio_value(IOPRIO_CLASS_BE, 1), 0, 5) == 16384
    assert NiceKnob.raised_ioprio(0, 19, 0) == ioprio_value(IOPRIO_CLASS_BE, 7)
    assert NiceKnob.raised_ioprio(ioprio_value(1, 4), 0, 2) is None  # realtime is kept


@needs_root
@needs_ioprio
def test_thread_originals_survive_a_restart_through_the_state_file(service: Service,
                                                                   tmp_path: Path) -> None:
    c0, c1 = two_cpus()
    child = service.spawn(nice=8, cpus={c0})
    service.add(child)
    state = str(tmp_path / "linux-state.json")
    backend = service.backend(state_file=state)
    backend.apply(command("NICE", amount=2.0, unit="levels"))
    backend.apply(command("CPU_AFFINITY", amount=1.0, unit="cpus"))
    assert nices(child) == [6] * 3 and ioprios(child) == ["best-effort 3"] * 3
    assert masks(child) == [{c0, c1}] * 3
    again = service.backend(state_file=state, ionice=False)  # restarted, now without ionice
    assert again.held() == backend.held()
    again.apply(command("NICE", amount=1.0, unit="levels"))  # its I/O priority goes back
    assert nices(child) == [7] * 3 and ioprios(child) == ["none"] * 3
    again.apply(command("NICE", "RELEASE", 0.0, "levels"))
    again.apply(command("CPU_AFFINITY", "RELEASE", 0.0, "cpus"))
    assert nices(child) == [8] * 3 and [IOPRIO.get(t) for t in tids(child)] == [0] * 3
    assert masks(child) == [{c0}] * 3 and again.held() == {}
