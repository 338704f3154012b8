"""The Linux host agent's knobs: one per resource, each reads, raises and restores one setting.

A knob's ``read(target)`` returns the setting as it was (JSON-serialisable, so the backend can
keep it in its state file), ``grant(target, original, amount)`` sets it to ``original`` plus
``amount`` (already in the knob's native unit), and ``restore(target, original)`` puts
``original`` back exactly. ``grant`` always starts from ``original``, never from the current
value, so a grant after a grant replaces it. Every failure is a :class:`BackendError` that
names the file or command and what to do.

Targets: a cgroup v2 directory (:class:`pathlib.Path`) for the cgroup-file knobs here and the
per-thread knobs (affinity, nice and ionice) in :mod:`actuators.backends.linux_proc`; a
``(dev, classid)`` pair of an HTB class for the ``tc`` knob.
"""

from __future__ import annotations

import re
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from schemas.errors import BackendError

Runner = Callable[[Sequence[str]], str]
MAX_WEIGHT = 10_000  # cgroup v2 weights are 1..10000
UNITS: dict[str, dict[str, float]] = {  # resource -> accepted unit -> factor to native unit
    "CPU_WEIGHT": {"weight": 1.0},
    "IO_WEIGHT": {"weight": 1.0},
    "CPU_QUOTA": {"millicores": 1.0, "m": 1.0, "cores": 1000.0, "cpus": 1000.0},
    "CPU_AFFINITY": {"cpus": 1.0, "cores": 1.0},
    "NICE": {"levels": 1.0, "nice": 1.0},
    "MEMORY_HIGH": {"bytes": 1.0, "KiB": 2.0**10, "MiB": 2.0**20, "GiB": 2.0**30},
    "NET_BANDWIDTH": {"bit/s": 1.0, "kbit/s": 1e3, "Mbit/s": 1e6, "Gbit/s": 1e9},
}


def native_amount(resource: str, unit: str, amount: float) -> float:
    """``amount`` in ``unit`` converted to the knob's native unit (weight, millicores, CPUs,
    nice levels, bytes, bit/s)."""
    factors = UNITS[resource]
    if unit not in factors:
        raise BackendError(f"unit {unit!r} is not accepted for {resource}: use one of "
                           f"{', '.join(factors)}")
    return amount * factors[unit]


def read_text(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        raise BackendError(f"{path} does not exist: is the controller enabled in the parent's "
                           "cgroup.subtree_control?") from None
    except OSError as exc:
        raise BackendError(f"cannot read {path}: {exc.strerror or exc}") from None


def write_text(path: Path, text: str) -> None:
    """One write(2) of ``text``, as the kernel's cgroup files expect."""
    try:
        with open(path, "w") as f:
            f.write(text)
    except FileNotFoundError:
        raise BackendError(f"{path} does not exist: is the controller enabled in the parent's "
                           "cgroup.subtree_control?") from None
    except OSError as exc:
        raise BackendError(f"cannot write {text.strip()!r} to {path}: "
                           f"{exc.strerror or exc}") from None


def parse_cpus(text: str) -> set[int]:
    """A kernel CPU list (``0-3,8,10-11``) as a set; empty text is the empty set."""
    cpus: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise BackendError(f"bad CPU list {text.strip()!r}: expected e.g. 0-3,8")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def format_cpus(cpus: set[int]) -> str:
    """The shortest kernel CPU list for ``cpus``: ``{0, 1, 2, 5}`` -> ``0-2,5``."""
    runs: list[list[int]] = []
    for cpu in sorted(cpus):
        if runs and cpu == runs[-1][1] + 1:
            runs[-1][1] = cpu
        else:
            runs.append([cpu, cpu])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def lend_cpus(base: set[int] | frozenset[int], lendable: set[int], amount: float,
              holder: str) -> set[int]:
    """The ``amount`` lowest-numbered lendable CPUs that ``base`` lacks; BackendError naming
    ``holder`` (e.g. "<cgroup> has CPUs") when there are not enough."""
    spare = sorted(lendable - base)
    wanted = round(amount)
    if wanted > len(spare):
        raise BackendError(f"{holder} {format_cpus(set(base)) or 'none'}; {wanted} more asked "
                           f"but only {len(spare)} lendable ({format_cpus(lendable) or 'none'})")
    return set(spare[:wanted])


class Knob(ABC):
    """One setting that a resource's lease raises."""

    resource: str

    @abstractmethod
    def read(self, target: Any) -> Any:
        """The setting as it is now: what ``restore`` will put back."""

    @abstractmethod
    def grant(self, target: Any, original: Any, amount: float) -> str:
        """Set ``original`` plus ``amount``; say what was written."""

    @abstractmethod
    def restore(self, target: Any, original: Any) -> str:
        """Put ``original`` back; say what was written."""


class FileKnob(Knob):
    """A knob that is one cgroup file (``filename``), read stripped and restored as read."""

    filename: str

    def read(self, target: Path) -> str:
        return read_text(target / self.filename).strip()

    def _write(self, target: Path, value: str) -> None:
        write_text(target / self.filename, value + "\n")

    def restore(self, target: Path, original: str) -> str:
        self._write(target, original)
        return f"{self.filename} = {original}"


class WeightKnob(Knob):
    """``cpu.weight`` (``100``) or ``io.weight`` (``default 100``, device lines left alone)."""

    def __init__(self, resource: str, filename: str, prefix: str = "") -> None:
        self.resource, self.filename, self.prefix = resource, filename, prefix

    def read(self, target: Path) -> int:
        text = read_text(target / self.filename)
        first = text.splitlines()[0] if text.strip() else ""
        value = first.removeprefix(self.prefix).strip()
        if not value.isdigit():
            raise BackendError(f"{target / self.filename} holds {first!r}: expected "
                               f"'{self.prefix}<1..10000>'")
        return int(value)

    def _set(self, target: Path, weight: int) -> str:
        write_text(target / self.filename, f"{self.prefix}{weight}\n")
        return f"{self.filename} = {weight}"

    def grant(self, target: Path, original: int, amount: float) -> str:
        wanted = original + round(amount)
        detail = self._set(target, max(1, min(MAX_WEIGHT, wanted)))
        return detail + (f" (capped from {wanted})" if wanted > MAX_WEIGHT else "")

    def restore(self, target: Path, original: int) -> str:
        return self._set(target, original)


class CpuMaxKnob(FileKnob):
    """``cpu.max`` (``$QUOTA $PERIOD``): the quota grows by millicores x period / 1000."""

    resource, filename = "CPU_QUOTA", "cpu.max"

    def grant(self, target: Path, original: str, amount: float) -> str:
        quota, _, period = original.partition(" ")
        if quota == "max":
            raise BackendError(f"{target / 'cpu.max'} is {original!r}, no quota: there is no "
                               "limit to raise (grant CPU_WEIGHT to this component instead)")
        if not quota.isdigit() or not period.isdigit():
            raise BackendError(f"{target / 'cpu.max'} holds {original!r}: expected "
                               "'$QUOTA $PERIOD'")
        new = int(quota) + round(amount * int(period) / 1000)
        self._write(target, f"{new} {period}")
        return f"cpu.max = {new} {period} (was {original})"


class MemoryHighKnob(FileKnob):
    """``memory.high`` in bytes: the throttling limit grows by the granted bytes."""

    resource, filename = "MEMORY_HIGH", "memory.high"

    def grant(self, target: Path, original: str, amount: float) -> str:
        if original == "max":
            raise BackendError(f"{target / 'memory.high'} is 'max', no limit: there is nothing "
                               "to raise (set memory.high for this service first)")
        if not original.isdigit():
            raise BackendError(f"{target / 'memory.high'} holds {original!r}: expected bytes")
        new = int(original) + round(amount)
        self._write(target, str(new))
        return f"memory.high = {new} (was {original})"


class CpusetKnob(FileKnob):
    """``cpuset.cpus`` (the ``affinity: "cpuset"`` mode): the cgroup's CPUs plus the
    lowest-numbered lendable CPUs it lacks.

    Lendable CPUs are ``cpus`` when given, else the parent's ``cpuset.cpus.effective``. An
    empty ``cpuset.cpus`` (inherit the parent's) starts from the cgroup's effective set, and is
    written back empty on restore.
    """

    resource, filename = "CPU_AFFINITY", "cpuset.cpus"

    def __init__(self, cpus: set[int] | None = None) -> None:
        self.cpus = cpus

    def grant(self, target: Path, original: str, amount: float) -> str:
        base = parse_cpus(original) or parse_cpus(read_text(target / "cpuset.cpus.effective"))
        lendable = self.cpus
        if lendable is None:
            lendable = parse_cpus(read_text(target.parent / "cpuset.cpus.effective"))
        new = format_cpus(base | lend_cpus(base, lendable, amount, f"{target} has CPUs"))
        self._write(target, new)
        return f"cpuset.cpus = {new} (was {original or 'inherited'})"

    def restore(self, target: Path, original: str) -> str:
        self._write(target, original)
        return f"cpuset.cpus = {original or '(empty: inherit)'}"


def run_command(argv: Sequence[str]) -> str:
    """Run ``argv``; its stdout, or a BackendError with its stderr."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=10,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackendError(f"{' '.join(argv)} could not run: {exc}") from None
    if done.returncode != 0:
        raise BackendError(f"{' '.join(argv)} failed ({done.returncode}): "
                           f"{done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


_RATE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]i?)?(bit|bps)$")
_RATE_SCALE = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
               "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}


def parse_rate(text: str) -> float:
    """A ``tc`` rate (``100Mbit``, ``1.5Gbit``, ``12Kbps``, ``8Kibit``) in bit/s."""
    m = _RATE.match(text)
    if m is None:
        raise BackendError(f"tc rate {text!r} not understood: expected e.g. 100Mbit")
    value = float(m.group(1)) * _RATE_SCALE[m.group(2) or ""]
    return value * 8 if m.group(3) == "bps" else value  # tc's "bps" means bytes per second


class TcClassKnob(Knob):
    """An HTB class's ``rate`` and ``ceil`` (``tc class change``), both raised by the grant.

    The operator sets up the qdisc, the class and the filter that steers the service's traffic
    into it; the knob only changes the class's rates, and restores rate, ceil, burst and cburst
    as ``tc`` printed them.
    """

    resource = "NET_BANDWIDTH"

    def __init__(self, tc_path: str = "tc", runner: Runner = run_command) -> None:
        self.tc_path, self.runner = tc_path, runner

    def read(self, target: tuple[str, str]) -> dict[str, str]:
        dev, classid = target
        out = self.runner([self.tc_path, "class", "show", "dev", dev, "classid", classid])
        words = out.split()
        if len(words) < 3 or words[:3] != ["class", "htb", classid]:
            raise BackendError(f"no HTB class {classid} on {dev} (tc printed {out.strip()!r}): "
                               "create it, and the filter that feeds it, before granting")
        keys = ("parent", "rate", "ceil", "burst", "cburst")
        fields = {w: words[i + 1] for i, w in enumerate(words[:-1]) if w in keys}
        parent = fields.get("parent", classid.split(":")[0] + ":")
        state = {"parent": parent}
        for key in ("rate", "ceil", "burst", "cburst"):
            if key not in fields:
                raise BackendError(f"tc printed no {key} for {classid} on {dev}: {out.strip()!r}")
            state[key] = fields[key]
        return state

    def _change(self, target: tuple[str, str], original: dict[str, str],
                **values: str) -> str:
        dev, classid = target
        argv = [self.tc_path, "class", "change", "dev", dev, "parent", original["parent"],
                "classid", classid, "htb"]
        for key, value in values.items():
            argv += [key, value]
        self.runner(argv)
        return f"tc class {classid} on {dev}: " + " ".join(f"{k} {v}" for k, v in values.items())

    def grant(self, target: tuple[str, str], original: dict[str, str], amount: float) -> str:
        rate = parse_rate(original["rate"]) + amount
        ceil = parse_rate(original["ceil"]) + amount
        return self._change(target, original, rate=f"{round(rate)}bit", ceil=f"{round(ceil)}bit")

    def restore(self, target: tuple[str, str], original: dict[str, str]) -> str:
        """Rate and ceil; tc then recomputes the default bursts, which restores a class built
        without explicit bursts exactly. Other bursts are written back as printed, which the
        kernel (storing them in ticks) keeps to within a tick."""
        detail = self._change(target, original, rate=original["rate"], ceil=original["ceil"])
        now = self.read(target)
        if (now["burst"], now["cburst"]) != (original["burst"], original["cburst"]):
            detail = self._change(target, original, rate=original["rate"],
                                  ceil=original["ceil"], burst=original["burst"],
                                  cburst=original["cburst"])
        return detail
