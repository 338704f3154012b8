"""The Linux host agent's per-thread knobs: CPU affinity (``sched_setaffinity``), nice
(``setpriority``) and the best-effort I/O priority (``ioprio_set``).

Each acts on every thread listed in the cgroup's ``cgroup.threads`` and remembers every
thread's own original. The rule for a thread that joins after the first grant (a new worker
thread, a restarted process): it counts as if its original were the cgroup's **usual**
original, the most common one among the threads seen at the first grant. A grant gives it that
value raised, and a release gives it that value, not whatever it started with. Threads that
have exited by the time of a write are skipped.

Nice, affinity and the I/O priority are per thread on Linux, so these knobs need no cgroup
controller: only ``cgroup.threads``. The originals are JSON-serialisable (thread ids as
strings), so the backend can keep them in its state file.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import os
import platform
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import TypeVar

from actuators.backends.linux_knobs import Knob, format_cpus, lend_cpus, parse_cpus, read_text
from schemas.errors import BackendError

# (ioprio_set, ioprio_get) syscall numbers: <asm/unistd*.h> of each architecture.
IOPRIO_SYSCALLS: dict[str, tuple[int, int]] = {"x86_64": (251, 252), "aarch64": (30, 31)}
IOPRIO_WHO_PROCESS = 1  # on Linux, "process" means one thread id
IOPRIO_CLASS_SHIFT = 13
IOPRIO_CLASS_NONE, IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE = 0, 1, 2, 3
IOPRIO_BE_LEVELS = 8  # best-effort levels 0 (first served) .. 7
_CLASS_NAMES = {IOPRIO_CLASS_NONE: "none", IOPRIO_CLASS_RT: "realtime",
                IOPRIO_CLASS_BE: "best-effort", IOPRIO_CLASS_IDLE: "idle"}

T = TypeVar("T", bound=Hashable)


def ioprio_value(io_class: int, level: int) -> int:
    """The kernel's ``IOPRIO_PRIO_VALUE(class, level)``."""
    return (io_class << IOPRIO_CLASS_SHIFT) | level


def ioprio_describe(value: int) -> str:
    """``16387`` -> ``best-effort 3``; ``0`` -> ``none`` (the level follows nice)."""
    io_class, level = value >> IOPRIO_CLASS_SHIFT, value & ((1 << IOPRIO_CLASS_SHIFT) - 1)
    name = _CLASS_NAMES.get(io_class, f"class {io_class}")
    return name if io_class == IOPRIO_CLASS_NONE else f"{name} {level}"


class IoPrio:
    """``ioprio_get`` / ``ioprio_set`` for one thread, through ``syscall(2)`` and ctypes.

    Python has no wrapper for these calls and their numbers differ by architecture; only
    x86_64 and aarch64 are known here. On any other machine every call raises a
    :class:`BackendError` that says so and how to go on without ionice.
    """

    def __init__(self, machine: str | None = None) -> None:
        self.machine = machine if machine is not None else platform.machine()
        self._libc: ctypes.CDLL | None = None

    @property
    def available(self) -> bool:
        return self.machine in IOPRIO_SYSCALLS

    def _call(self, which: int, *args: int) -> int:
        numbers = IOPRIO_SYSCALLS.get(self.machine)
        if numbers is None:
            raise BackendError(f"ionice: the ioprio_set/ioprio_get syscall numbers are known "
                               f"for {' and '.join(IOPRIO_SYSCALLS)}, not {self.machine}; "
                               "set the linux backend option \"ionice\": false to lease "
                               "nice alone")
        if self._libc is None:
            self._libc = ctypes.CDLL(None, use_errno=True)
        result = int(self._libc.syscall(ctypes.c_long(numbers[which]),
                                        *(ctypes.c_int(a) for a in args)))
        if result == -1:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))  # ESRCH/EPERM become their subclasses
        return result

    def get(self, tid: int) -> int:
        """The thread's I/O priority value (``0``: none set, the level follows nice)."""
        return self._call(1, IOPRIO_WHO_PROCESS, tid)

    def set(self, tid: int, value: int) -> None:
        self._call(0, IOPRIO_WHO_PROCESS, tid, value)


def cgroup_threads(target: Path) -> list[int]:
    """The thread ids in ``target/cgroup.threads``, in the file's order."""
    return [int(t) for t in read_text(target / "cgroup.threads").split() if t.isdigit()]


def usual(values: Iterable[T]) -> T:
    """The most common value; among equally common ones, the first seen."""
    return collections.Counter(values).most_common(1)[0][0]


def _no_threads(target: Path, what: str) -> BackendError:
    return BackendError(f"{target} has no threads (cgroup.threads is empty or they all "
                        f"exited): no {what} to change")


def _refused(action: str, tid: int, target: Path, exc: OSError, needs: str) -> BackendError:
    if isinstance(exc, PermissionError):
        return BackendError(f"{action} on thread {tid} of {target} was refused: it needs "
                            f"{needs} (run the agent as root or grant it the capability)")
    return BackendError(f"{action} on thread {tid} of {target} failed: "
                        f"{exc.strerror or exc}")


class AffinityKnob(Knob):
    """Every thread's CPU affinity (``sched_setaffinity``), widened by lendable CPUs.

    The grant of ``a`` CPUs adds the ``a`` lowest-numbered lendable CPUs that the cgroup's
    usual original mask lacks to each thread's own original mask. Lendable CPUs are ``cpus``
    when given, else the cgroup's ``cpuset.cpus.effective`` when the cpuset controller is
    there, else the CPUs the agent itself may run on. A cpuset that silently narrows the new
    mask is reported as a failure, not as a grant.
    """

    resource = "CPU_AFFINITY"

    def __init__(self, cpus: set[int] | None = None) -> None:
        self.cpus = cpus

    def read(self, target: Path) -> dict[str, list[int]]:
        original: dict[str, list[int]] = {}
        for tid in cgroup_threads(target):
            try:
                original[str(tid)] = sorted(os.sched_getaffinity(tid))
            except ProcessLookupError:
                continue
        if not original:
            raise _no_threads(target, "CPU affinity")
        return original

    def _lendable(self, target: Path) -> set[int]:
        if self.cpus is not None:
            return set(self.cpus)
        effective = target / "cpuset.cpus.effective"
        if effective.exists():
            return parse_cpus(read_text(effective))
        return set(os.sched_getaffinity(0))

    def _set_all(self, target: Path, original: dict[str, list[int]], extra: set[int]) -> str:
        base = frozenset(usual(frozenset(m) for m in original.values()))
        done, masks = 0, set[str]()
        for tid in cgroup_threads(target):
            wanted = set(original.get(str(tid), base)) | extra
            try:
                os.sched_setaffinity(tid, wanted)
                got = os.sched_getaffinity(tid)
            except ProcessLookupError:
                continue
            except OSError as exc:
                raise _refused(f"setting CPUs {format_cpus(wanted)}", tid, target, exc,
                               "CAP_SYS_NICE for another user's thread") from None
            if got != wanted:
                raise BackendError(f"thread {tid} of {target} got CPUs {format_cpus(got)}, not "
                                   f"{format_cpus(wanted)}: its cpuset does not allow them (or "
                                   "a CPU is offline); set the 'cpus' option to CPUs it allows")
            done, masks = done + 1, masks | {format_cpus(got)}
        return f"affinity {' / '.join(sorted(masks)) or '-'} on {done} threads"

    def grant(self, target: Path, original: dict[str, list[int]], amount: float) -> str:
        base = usual(frozenset(m) for m in original.values())
        lendable = self._lendable(target)
        extra = lend_cpus(base, lendable, amount, f"{target} threads usually run on CPUs")
        try:
            detail = self._set_all(target, original, extra)
        except BackendError:
            with contextlib.suppress(BackendError):  # the failure above is the news
                self._set_all(target, original, set())  # leave no thread half-granted
            raise
        return f"{detail} (+{format_cpus(extra) or 'none'})"

    def restore(self, target: Path, original: dict[str, list[int]]) -> str:
        return self._set_all(target, original, set())


class NiceKnob(Knob):
    """Every thread's nice (lowered by the grant) and, with ``ionice``, its I/O priority.

    A grant of ``n`` levels sets each thread's nice to its original - ``n`` (at least -20) and
    raises its best-effort I/O priority by ``n`` levels (level - ``n``, clamped to 0..7). A
    thread with no I/O priority of its own (class none) starts from the level the kernel
    derives from its original nice, ``(nice + 20) / 5``. Threads in the realtime or idle I/O
    class keep it: someone chose that class on purpose. Release writes back each thread's
    original nice and I/O priority value exactly (class none included), also when the agent
    has been restarted with ``ionice`` off since the grant.
    """

    resource = "NICE"

    def __init__(self, ionice: bool = True, ioprio: IoPrio | None = None) -> None:
        self.ionice = ionice
        self.ioprio = ioprio if ioprio is not None else IoPrio()

    def read(self, target: Path) -> dict[str, dict[str, int]]:
        nice: dict[str, int] = {}
        io: dict[str, int] = {}
        for tid in cgroup_threads(target):
            try:
                value = os.getpriority(os.PRIO_PROCESS, tid)
                if self.ionice:
                    io[str(tid)] = self.ioprio.get(tid)
            except ProcessLookupError:
                io.pop(str(tid), None)
                continue
            except OSError as exc:
                raise _refused("reading the I/O priority", tid, target, exc,
                               "the same user or CAP_SYS_NICE") from None
            nice[str(tid)] = value
        if not nice:
            raise _no_threads(target, "nice value")
        return {"nice": nice, "ioprio": io} if self.ionice else {"nice": nice}

    @staticmethod
    def raised_ioprio(value: int, nice: int, levels: int) -> int | None:
        """The I/O priority ``levels`` above ``value`` for a thread of original ``nice``, or
        None when its class is kept (realtime, idle)."""
        io_class = value >> IOPRIO_CLASS_SHIFT
        if io_class == IOPRIO_CLASS_NONE:
            level = (nice + 20) // 5
        elif io_class == IOPRIO_CLASS_BE:
            level = value & ((1 << IOPRIO_CLASS_SHIFT) - 1)
        else:
            return None
        return ioprio_value(IOPRIO_CLASS_BE, max(0, min(IOPRIO_BE_LEVELS - 1, level - levels)))

    def _set_all(self, target: Path, original: dict[str, dict[str, int]], levels: int) -> str:
        nices, ios = original["nice"], original.get("ioprio")
        usual_nice = usual(nices.values())
        usual_io = usual(ios.values()) if ios else None
        io_levels = levels if self.ionice else 0  # ionice off since: its originals go back
        done, values, io_values = 0, set[int](), set[str]()
        for tid in cgroup_threads(target):
            orig_nice = nices.get(str(tid), usual_nice)
            value = max(-20, orig_nice - levels)
            try:
                os.setpriority(os.PRIO_PROCESS, tid, value)
                if ios and usual_io is not None:  # what was read is restored, ionice or not
                    orig_io = ios.get(str(tid), usual_io)
                    io = orig_io if io_levels == 0 else self.raised_ioprio(orig_io, orig_nice,
                                                                           io_levels)
                    if io is not None:
                        self.ioprio.set(tid, io)
                        io_values.add(ioprio_describe(io))
            except ProcessLookupError:
                continue
            except OSError as exc:
                raise _refused(f"setting nice {value} / ionice", tid, target, exc,
                               "CAP_SYS_NICE to lower nice") from None
            done, values = done + 1, values | {value}
        listed = ",".join(str(v) for v in sorted(values)) or "-"
        detail = f"nice {listed} on {done} threads"
        if io_values:
            detail += f"; ionice {' / '.join(sorted(io_values))}"
        return detail

    def grant(self, target: Path, original: dict[str, dict[str, int]], amount: float) -> str:
        try:
            return self._set_all(target, original, round(amount))
        except BackendError:
            with contextlib.suppress(BackendError):  # the refusal above is the news
                self._set_all(target, original, 0)  # leave no thread half-granted
            raise

    def restore(self, target: Path, original: dict[str, dict[str, int]]) -> str:
        return self._set_all(target, original, 0)
