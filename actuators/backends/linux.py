"""The Linux host agent backend: applies leases to this host's services through cgroup v2,
``sched_setaffinity``, nice/ionice and ``tc``.

One instance runs on each host and owns that host's commands (``hosts=("web-17",)``). A
component ``<host>/<service>`` maps to a cgroup directory by the ``cgroups`` option; the knobs
in :mod:`actuators.backends.linux_knobs` (cgroup files, ``tc``) and
:mod:`actuators.backends.linux_proc` (per-thread affinity, nice and ionice) do the writing.
The first GRANT of a (component, resource) remembers the setting as it was; every later GRANT
is computed from that original (so it replaces, not adds), and RELEASE / PREEMPT write the
original back and forget it. With ``state_file`` set, the originals survive an agent restart.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from actuators.backends.base import IdempotentBackend, Record, check_options, make_outcome
from actuators.backends.linux_knobs import (
    CpuMaxKnob,
    CpusetKnob,
    Knob,
    MemoryHighKnob,
    Runner,
    TcClassKnob,
    WeightKnob,
    native_amount,
    parse_cpus,
    run_command,
)
from actuators.backends.linux_proc import AffinityKnob, NiceKnob
from schemas.errors import BackendError, ConfigError

DEFAULT_CGROUPS = {"*/*": "system.slice/{service}"}
_CLASSID = re.compile(r"^[0-9a-fA-F]{1,4}:[0-9a-fA-F]{1,4}$")
_OPTIONS = ("cgroup_root", "cgroups", "cpus", "affinity", "ionice", "net", "tc_path",
            "state_file", "cache_size")
AFFINITY_MODES = ("sched", "cpuset")


class LinuxBackend(IdempotentBackend):
    """Leases on this host's services: cgroup v2 files, threads' CPU affinity, nice and I/O
    priority, and HTB classes.

    Resources and mechanisms (a GRANT's amount is added to the setting as the backend found
    it): CPU_WEIGHT -> ``cpu.weight`` (capped at 10000); IO_WEIGHT -> ``io.weight``'s default;
    CPU_QUOTA -> ``cpu.max`` quota (millicores x period / 1000); MEMORY_HIGH ->
    ``memory.high``; CPU_AFFINITY -> ``sched_setaffinity`` of every thread in
    ``cgroup.threads`` (or ``cpuset.cpus``), plus the lowest lendable CPUs; NICE -> nice of
    every thread in ``cgroup.threads`` (lowered) and its best-effort I/O priority (raised);
    NET_BANDWIDTH -> an HTB class's rate and ceil. REPLICAS is refused (a host agent starts
    no replicas).

    Options (``from_options``; all optional):

    - ``cgroup_root`` (str, ``/sys/fs/cgroup``): the cgroup v2 mount.
    - ``cgroups`` (object, ``{"*/*": "system.slice/{service}"}``): component glob -> cgroup
      path under the root; ``{host}``, ``{service}`` and ``{component}`` are filled in. The
      first matching glob, in the object's order, wins.
    - ``cpus`` (str): CPUs CPU_AFFINITY may lend, as a kernel CPU list (``2-7``); by
      default the cgroup's ``cpuset.cpus.effective`` or, without cpuset, the agent's own CPUs
      (``sched`` mode), the parent's ``cpuset.cpus.effective`` (``cpuset`` mode).
    - ``affinity`` (str, ``sched``): ``sched`` sets each thread's affinity mask; ``cpuset``
      writes the cgroup's ``cpuset.cpus`` (needs the cpuset controller).
    - ``ionice`` (bool, true): a NICE lease raises the threads' best-effort I/O priority too.
    - ``net`` (object, none): component glob -> ``{"dev": "eth0", "classid": "1:10"}``, the
      HTB class that carries the component's traffic; the operator creates class and filter.
    - ``tc_path`` (str, ``tc``): the ``tc`` binary.
    - ``state_file`` (str, none): JSON file keeping the original settings across restarts.
    - ``cache_size`` (int, 10000): how many command ids are remembered for idempotence.
    """

    name = "linux"

    def __init__(
        self,
        *,
        cgroup_root: str | Path = "/sys/fs/cgroup",
        cgroups: Mapping[str, str] | None = None,
        cpus: str | None = None,
        affinity: str = "sched",
        ionice: bool = True,
        net: Mapping[str, Mapping[str, str]] | None = None,
        tc_path: str = "tc",
        state_file: str | Path | None = None,
        runner: Runner = run_command,
        hosts: tuple[str, ...] = (),
        components: tuple[str, ...] = (),
        cache_size: int = 10_000,
    ) -> None:
        self.cgroup_root = Path(cgroup_root)
        self.cgroups = dict(DEFAULT_CGROUPS if cgroups is None else cgroups)
        self.net = {glob: (str(c["dev"]), str(c["classid"])) for glob, c in (net or {}).items()}
        self.state_file = Path(state_file) if state_file is not None else None
        if affinity not in AFFINITY_MODES:
            raise ConfigError(f"linux backend option 'affinity' = {affinity!r}: valid values "
                              f"are {', '.join(AFFINITY_MODES)}")
        self.affinity = affinity
        lendable = parse_cpus(cpus) if cpus is not None else None
        self.knobs: dict[str, Knob] = {
            k.resource: k
            for k in (
                WeightKnob("CPU_WEIGHT", "cpu.weight"),
                WeightKnob("IO_WEIGHT", "io.weight", "default "),
                CpuMaxKnob(),
                MemoryHighKnob(),
                AffinityKnob(lendable) if affinity == "sched" else CpusetKnob(lendable),
                NiceKnob(ionice),
                TcClassKnob(tc_path, runner),
            )
        }
        # (component, resource) -> (target as stored, original setting)
        self._held: dict[tuple[str, str], tuple[Any, Any]] = self._load()
        super().__init__(hosts=hosts, components=components, cache_size=cache_size)

    # ------------------------------------------------------------------ options
    @classmethod
    def from_options(
        cls,
        options: Mapping[str, Any],
        *,
        hosts: tuple[str, ...] = (),
        components: tuple[str, ...] = (),
    ) -> LinuxBackend:
        """The backend from plain JSON-like options (see the class docstring)."""
        check_options("linux", options, _OPTIONS)
        kw: dict[str, Any] = {}
        for key in ("cgroup_root", "tc_path"):
            if key in options:
                kw[key] = _string(options, key)
        for key in ("cpus", "state_file"):
            if options.get(key) is not None:
                kw[key] = _string(options, key)
        if "cpus" in kw:
            try:
                parse_cpus(kw["cpus"])
            except BackendError as exc:
                raise ConfigError(f"linux backend option 'cpus': {exc}") from None
        if "affinity" in options:
            mode = options["affinity"]
            if mode not in AFFINITY_MODES:
                raise ConfigError(f"linux backend option 'affinity' = {mode!r}: valid values "
                                  f"are {', '.join(AFFINITY_MODES)}")
            kw["affinity"] = mode
        if "ionice" in options:
            if not isinstance(options["ionice"], bool):
                raise ConfigError(f"linux backend option 'ionice' = {options['ionice']!r}: "
                                  "expected true or false")
            kw["ionice"] = options["ionice"]
        if "cache_size" in options:
            size = options["cache_size"]
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise ConfigError(f"linux backend option 'cache_size' = {size!r}: "
                                  "expected an integer >= 1")
            kw["cache_size"] = size
        if "cgroups" in options:
            kw["cgroups"] = _cgroups(options["cgroups"])
        if "net" in options:
            kw["net"] = _net(options["net"])
        return cls(hosts=tuple(hosts), components=tuple(components), **kw)

    # ------------------------------------------------------------------ applying
    @property
    def supported(self) -> tuple[str, ...]:
        return tuple(self.knobs)

    def _execute(self, command: Mapping[str, Any]) -> Record:
        component, resource = str(command["component"]), str(command["resource"])
        knob = self.knobs.get(resource)
        if knob is None:
            raise BackendError(f"{resource} for {component}: the linux backend supports "
                               f"{', '.join(self.supported)}")
        key = (component, resource)
        if command["action"] == "GRANT":
            amount = native_amount(resource, str(command["unit"]), float(command["amount"]))
            detail = self._grant(key, knob, amount)
            detail += f"; lease {command['amount']:g} {command['unit']} for {command['lease_s']} s"
        elif key in self._held:
            stored, original = self._held_original(key)
            detail = knob.restore(_target(resource, stored), original)
            del self._held[key]
            self._save()
            detail = f"{command['action'].lower()}: {detail}"
        else:
            detail = f"{resource} of {component} holds no lease here: already at its baseline"
        return make_outcome(command["command_id"], component, command["ts"], "APPLIED",
                            f"{component}: {detail}", self.name)

    def _grant(self, key: tuple[str, str], knob: Knob, amount: float) -> str:
        component, resource = key
        if key in self._held:
            stored, original = self._held_original(key)
            return knob.grant(_target(resource, stored), original, amount)
        target = self._resolve(component, resource)
        original = knob.read(target)
        self._held[key] = (_stored(target), original)
        self._save()  # before writing: a crash mid-grant must still know the original
        try:
            return knob.grant(target, original, amount)
        except BaseException:
            del self._held[key]
            self._save()
            raise

    def _held_original(self, key: tuple[str, str]) -> tuple[Any, Any]:
        """The held (target, original); refused when a state file's CPU_AFFINITY original was
        taken in the other affinity mode (a cpuset string vs per-thread masks)."""
        stored, original = self._held[key]
        if key[1] == "CPU_AFFINITY" and isinstance(original, str) != (self.affinity == "cpuset"):
            taken = "cpuset" if isinstance(original, str) else "sched"
            raise BackendError(f"the CPU_AFFINITY original of {key[0]} was taken in affinity "
                               f"mode {taken!r} but this agent runs {self.affinity!r}: run it "
                               f"with \"affinity\": \"{taken}\" until that lease is released")
        return stored, original

    def _resolve(self, component: str, resource: str) -> Path | tuple[str, str]:
        """Where ``resource`` of ``component`` lives: its cgroup, or its HTB class."""
        if resource == "NET_BANDWIDTH":
            for glob, target in self.net.items():
                if fnmatch.fnmatchcase(component, glob):
                    return target
            raise BackendError(f"no HTB class for {component}: the 'net' option maps "
                               f"{', '.join(self.net) or 'no components'}")
        host, _, service = component.partition("/")
        for glob, template in self.cgroups.items():
            if fnmatch.fnmatchcase(component, glob):
                rel = PurePosixPath(template.format(host=host, service=service,
                                                    component=component))
                if rel.is_absolute() or ".." in rel.parts or not service and "{service" in template:
                    raise BackendError(f"cgroup path {str(rel)!r} for {component} is not a "
                                       f"service's directory under {self.cgroup_root}")
                path = self.cgroup_root / rel
                if not path.is_dir():
                    raise BackendError(f"cgroup {path} of {component} does not exist")
                return path
        raise BackendError(f"no cgroup for {component}: the 'cgroups' option maps "
                           f"{', '.join(self.cgroups) or 'no components'}")

    def held(self) -> dict[tuple[str, str], Any]:
        """The original settings this backend will restore, per (component, resource)."""
        return {key: original for key, (_, original) in self._held.items()}

    # ------------------------------------------------------------------ state file
    def _load(self) -> dict[tuple[str, str], tuple[Any, Any]]:
        if self.state_file is None or not self.state_file.exists():
            return {}
        try:
            rows = json.loads(self.state_file.read_text())["held"]
            return {(str(r["component"]), str(r["resource"])): (r["target"], r["original"])
                    for r in rows}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"linux backend state_file {self.state_file} is unreadable "
                              f"({exc}): restore its settings by hand, then delete it") from None

    def _save(self) -> None:
        if self.state_file is None:
            return
        rows = [{"component": c, "resource": r, "target": t, "original": o}
                for (c, r), (t, o) in sorted(self._held.items())]
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        try:
            tmp.write_text(json.dumps({"held": rows}, sort_keys=True))
            os.replace(tmp, self.state_file)
        except OSError as exc:
            raise BackendError(f"cannot write state_file {self.state_file}: {exc}") from None


def _stored(target: Path | tuple[str, str]) -> Any:
    return str(target) if isinstance(target, Path) else list(target)


def _target(resource: str, stored: Any) -> Path | tuple[str, str]:
    return (str(stored[0]), str(stored[1])) if resource == "NET_BANDWIDTH" else Path(stored)


def _string(options: Mapping[str, Any], key: str) -> str:
    value = options[key]
    if not isinstance(value, str) or not value:
        raise ConfigError(f"linux backend option {key!r} = {value!r}: expected a non-empty "
                          "string")
    return value


def _cgroups(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"linux backend option 'cgroups' = {raw!r}: expected an object of "
                          "component glob -> cgroup path template")
    for glob, template in raw.items():
        if not isinstance(template, str) or not template:
            raise ConfigError(f"linux backend option 'cgroups'[{glob!r}] = {template!r}: "
                              "expected a path such as 'system.slice/{service}'")
        try:
            template.format(host="h", service="s", component="h/s")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"linux backend option 'cgroups'[{glob!r}] = {template!r}: bad "
                              f"placeholder {exc}; use {{host}}, {{service}}, {{component}}"
                              ) from None
    return {str(g): str(t) for g, t in raw.items()}


def _net(raw: Any) -> dict[str, dict[str, str]]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"linux backend option 'net' = {raw!r}: expected an object of "
                          'component glob -> {"dev": ..., "classid": ...}')
    out = {}
    for glob, cls in raw.items():
        if (not isinstance(cls, Mapping) or set(cls) != {"dev", "classid"}
                or not isinstance(cls["dev"], str) or not cls["dev"]
                or not isinstance(cls["classid"], str) or not _CLASSID.match(cls["classid"])):
            raise ConfigError(f"linux backend option 'net'[{glob!r}] = {cls!r}: expected "
                              '{"dev": "eth0", "classid": "1:10"}')
        out[str(glob)] = {"dev": cls["dev"], "classid": cls["classid"]}
    return out
