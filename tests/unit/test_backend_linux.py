"""The Linux host agent backend on directory trees laid out like cgroup v2 and on a real HTB
class where the machine allows it. The per-thread knobs (affinity, nice, ionice) on real child
processes are in ``test_backend_linux_proc.py``."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actuators.backends import Backend
from actuators.backends.linux import LinuxBackend
from actuators.backends.linux_knobs import (
    CpusetKnob,
    TcClassKnob,
    format_cpus,
    parse_cpus,
    parse_rate,
)
from actuators.backends.linux_proc import AffinityKnob, NiceKnob
from schemas.codec import Codec
from schemas.errors import BackendError, ConfigError

CODEC = Codec()
SERVICE = "system.slice/api.service"
_ids = itertools.count()


def command(resource: str = "CPU_WEIGHT", action: str = "GRANT", amount: float = 200.0,
            unit: str = "weight", cid: str | None = None, **kw: Any) -> dict[str, Any]:
    return {"command_id": cid or f"c{next(_ids)}", "component": "web-1/api.service",
            "host": "web-1", "ts": 1_700_000_000_000, "resource": resource, "action": action,
            "amount": amount, "unit": unit, "lease_s": 900, "reason": "test", "risk": 0.8,
            "priority": 580, **kw}


def cgroup(root: Path, rel: str = SERVICE, **files: str) -> Path:
    """A cgroup directory with the given files (``cpu_weight`` -> ``cpu.weight``)."""
    path = root / rel
    path.mkdir(parents=True, exist_ok=True)
    defaults = {"cpu.weight": "100\n", "io.weight": "default 100\n", "cpu.max": "max 100000\n",
                "memory.high": "max\n", "cpuset.cpus": "\n", "cpuset.cpus.effective": "0-1\n"}
    for name, text in {**defaults, **{k.replace("_", "."): v for k, v in files.items()}}.items():
        (path / name).write_text(text)
    (path.parent / "cpuset.cpus.effective").write_text("0-7\n")
    return path


def read(path: Path, name: str) -> str:
    return (path / name).read_text().strip()


def assert_outcome_contract(outcome: dict[str, Any]) -> None:
    fields = [f["name"] for f in CODEC.schema("AllocationOutcome").parsed["fields"]]
    assert sorted(outcome) == sorted(fields)
    assert CODEC.decode(CODEC.encode("AllocationOutcome", outcome))[1] == outcome


@pytest.fixture
def cg(tmp_path: Path) -> Path:
    return cgroup(tmp_path)


@pytest.fixture
def backend(tmp_path: Path) -> LinuxBackend:
    return LinuxBackend(cgroup_root=tmp_path, hosts=("web-1",))


# ------------------------------------------------------------------------------ cgroup files
def test_cpu_weight_grant_replaces_and_release_restores_the_original(
    cg: Path, backend: LinuxBackend
) -> None:
    (cg / "cpu.weight").write_text("150\n")
    assert isinstance(backend, Backend)
    out = backend.apply(command(amount=200.0))
    assert_outcome_contract(out)
    assert (out["status"], out["backend"], out["effect"]) == ("APPLIED", "linux", None)
    assert read(cg, "cpu.weight") == "350" and "cpu.weight = 350" in out["detail"]
    backend.apply(command(amount=50.0))  # a grant replaces the previous one
    assert read(cg, "cpu.weight") == "200"
    assert backend.held() == {("web-1/api.service", "CPU_WEIGHT"): 150}
    assert backend.apply(command(action="RELEASE", amount=0.0))["status"] == "APPLIED"
    assert read(cg, "cpu.weight") == "150" and backend.held() == {}


def test_a_repeated_command_id_acts_once_on_the_file(cg: Path, backend: LinuxBackend) -> None:
    first = backend.apply(command(amount=300.0, cid="g1"))
    backend.apply(command(action="PREEMPT", amount=0.0, cid="p1"))
    assert read(cg, "cpu.weight") == "100"
    assert backend.apply(command(amount=300.0, cid="g1")) == first  # answered, not redone
    assert read(cg, "cpu.weight") == "100"


def test_weights_are_capped_at_the_kernel_maximum(cg: Path, backend: LinuxBackend) -> None:
    out = backend.apply(command(amount=20_000.0))
    assert read(cg, "cpu.weight") == "10000" and "capped from 20100" in out["detail"]


def test_io_weight_sets_the_default_line(tmp_path: Path, backend: LinuxBackend) -> None:
    cg = cgroup(tmp_path, io_weight="default 80\n8:0 300\n")
    backend.apply(command("IO_WEIGHT", amount=120.0))
    assert read(cg, "io.weight") == "default 200"
    backend.apply(command("IO_WEIGHT", "RELEASE", 0.0))
    assert read(cg, "io.weight") == "default 80"


@pytest.mark.parametrize(("amount", "unit"), [(500.0, "millicores"), (0.5, "cores")])
def test_cpu_quota_raises_cpu_max_by_millicores(tmp_path: Path, backend: LinuxBackend,
                                                amount: float, unit: str) -> None:
    cg = cgroup(tmp_path, cpu_max="50000 100000\n")
    assert backend.apply(command("CPU_QUOTA", amount=amount, unit=unit))["status"] == "APPLIED"
    assert read(cg, "cpu.max") == "100000 100000"
    backend.apply(command("CPU_QUOTA", "RELEASE", 0.0, "millicores"))
    assert read(cg, "cpu.max") == "50000 100000"


def test_no_quota_or_no_memory_limit_means_nothing_to_raise(cg: Path,
                                                            backend: LinuxBackend) -> None:
    quota = backend.apply(command("CPU_QUOTA", amount=500.0, unit="millicores"))
    memory = backend.apply(command("MEMORY_HIGH", amount=512.0, unit="MiB"))
    assert quota["status"] == memory["status"] == "FAILED"
    assert "no quota" in quota["detail"] and "CPU_WEIGHT" in quota["detail"]
    assert "memory.high" in memory["detail"] and "'max'" in memory["detail"]
    assert backend.held() == {} and read(cg, "cpu.max") == "max 100000"


def test_memory_high_grows_by_mib_and_comes_back_exactly(tmp_path: Path,
                                                         backend: LinuxBackend) -> None:
    cg = cgroup(tmp_path, memory_high=f"{2**30}\n")
    backend.apply(command("MEMORY_HIGH", amount=512.0, unit="MiB"))
    assert read(cg, "memory.high") == str(2**30 + 512 * 2**20)
    backend.apply(command("MEMORY_HIGH", amount=1.0, unit="GiB"))
    assert read(cg, "memory.high") == str(2**31)
    backend.apply(command("MEMORY_HIGH", "RELEASE", 0.0, "MiB"))
    assert read(cg, "memory.high") == str(2**30)


def test_cpuset_affinity_adds_the_lowest_lendable_cpus(tmp_path: Path) -> None:
    cg = cgroup(tmp_path, cpuset_cpus="0-1\n")
    backend = LinuxBackend.from_options({"cgroup_root": str(tmp_path), "affinity": "cpuset"})
    backend.apply(command("CPU_AFFINITY", amount=2.0, unit="cpus"))
    assert read(cg, "cpuset.cpus") == "0-3"
    backend.apply(command("CPU_AFFINITY", amount=6.0, unit="cpus"))
    assert read(cg, "cpuset.cpus") == "0-7"
    out = backend.apply(command("CPU_AFFINITY", amount=7.0, unit="cpus"))
    assert out["status"] == "FAILED" and "only 6 lendable" in out["detail"]
    assert read(cg, "cpuset.cpus") == "0-7"  # a failed grant leaves the last one in force
    backend.apply(command("CPU_AFFINITY", "RELEASE", 0.0, "cpus"))
    assert read(cg, "cpuset.cpus") == "0-1"


def test_cpuset_affinity_from_an_inherited_cpuset_and_a_lendable_list(tmp_path: Path) -> None:
    cg = cgroup(tmp_path)  # empty cpuset.cpus: the effective 0-1 is inherited
    backend = LinuxBackend(cgroup_root=tmp_path, cpus="4-7", affinity="cpuset")
    backend.apply(command("CPU_AFFINITY", amount=2.0, unit="cpus"))
    assert read(cg, "cpuset.cpus") == "0-1,4-5"
    backend.apply(command("CPU_AFFINITY", "PREEMPT", 0.0, "cpus"))
    assert (cg / "cpuset.cpus").read_text() == "\n"  # empty again: inherit


def test_cpu_lists_round_trip() -> None:
    assert parse_cpus("0-3,8,10-11\n") == {0, 1, 2, 3, 8, 10, 11}
    assert format_cpus({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8" and format_cpus(set()) == ""
    with pytest.raises(BackendError, match="bad CPU list"):
        parse_cpus("0-a")


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(st.one_of(st.none(), st.integers(0, 12_000)), max_size=8),
       original=st.integers(1, 10_000))
def test_any_grant_sequence_leaves_the_last_grant_and_release_restores(
    tmp_path_factory: pytest.TempPathFactory, steps: list[int | None], original: int
) -> None:
    root = tmp_path_factory.mktemp("cg")
    cg = cgroup(root, cpu_weight=f"{original}\n")
    backend = LinuxBackend(cgroup_root=root)
    for step in steps:  # None releases, a number grants
        if step is None:
            backend.apply(command(action="RELEASE", amount=0.0))
            assert read(cg, "cpu.weight") == str(original)
        else:
            backend.apply(command(amount=float(step)))
            assert read(cg, "cpu.weight") == str(min(10_000, original + step))
    backend.apply(command(action="RELEASE", amount=0.0))
    assert read(cg, "cpu.weight") == str(original) and backend.held() == {}


# ------------------------------------------------------------------------------ refusals
def test_unsupported_resources_and_units_fail_saying_what_is_supported(
    cg: Path, backend: LinuxBackend
) -> None:
    replicas = backend.apply(command("REPLICAS", amount=1.0, unit="replicas"))
    assert replicas["status"] == "FAILED"
    assert "supports CPU_WEIGHT, IO_WEIGHT" in replicas["detail"]
    assert "REPLICAS" not in replicas["detail"].split("supports")[1]
    unit = backend.apply(command(amount=1.0, unit="shares"))
    assert unit["status"] == "FAILED" and "use one of weight" in unit["detail"]
    assert read(cg, "cpu.weight") == "100"


def test_missing_cgroups_files_and_mappings_fail_with_the_reason(tmp_path: Path,
                                                                 backend: LinuxBackend) -> None:
    gone = backend.apply(command())
    assert gone["status"] == "FAILED" and "api.service does not exist" in gone["detail"]
    cg = cgroup(tmp_path)
    (cg / "io.weight").unlink()
    io = backend.apply(command("IO_WEIGHT"))
    assert io["status"] == "FAILED" and "subtree_control" in io["detail"]
    host = backend.apply(command(component="web-1"))
    assert host["status"] == "FAILED" and "no cgroup for web-1" in host["detail"]
    net = backend.apply(command("NET_BANDWIDTH", amount=10.0, unit="Mbit/s"))
    assert net["status"] == "FAILED" and "no HTB class" in net["detail"]


def test_cgroup_templates_cannot_leave_the_root(tmp_path: Path) -> None:
    cgroup(tmp_path, "outside")
    backend = LinuxBackend(cgroup_root=tmp_path / "root", cgroups={"*": "../outside"})
    out = backend.apply(command())
    assert out["status"] == "FAILED" and "not a service's directory" in out["detail"]
    assert read(tmp_path / "outside", "cpu.weight") == "100"


def test_commands_for_other_hosts_are_rejected_untouched(cg: Path,
                                                        backend: LinuxBackend) -> None:
    out = backend.apply(command(host="web-2", component="web-2/api.service"))
    assert out["status"] == "REJECTED" and "web-2" in out["detail"]
    assert read(cg, "cpu.weight") == "100"


def test_release_without_a_lease_changes_nothing(cg: Path, backend: LinuxBackend) -> None:
    (cg / "cpu.weight").write_text("400\n")
    out = backend.apply(command(action="RELEASE", amount=0.0))
    assert out["status"] == "APPLIED" and "already at its baseline" in out["detail"]
    assert read(cg, "cpu.weight") == "400"


# ------------------------------------------------------------------------------ state file
def test_originals_survive_a_restart_through_the_state_file(cg: Path, tmp_path: Path) -> None:
    state = tmp_path / "linux-state.json"
    (cg / "cpu.weight").write_text("70\n")
    LinuxBackend(cgroup_root=tmp_path, state_file=state).apply(command(amount=500.0))
    assert read(cg, "cpu.weight") == "570"
    assert json.loads(state.read_text())["held"][0]["original"] == 70
    again = LinuxBackend(cgroup_root=tmp_path, state_file=state)  # the agent restarted
    again.apply(command(amount=30.0))
    assert read(cg, "cpu.weight") == "100"
    again.apply(command(action="RELEASE", amount=0.0))
    assert read(cg, "cpu.weight") == "70" and json.loads(state.read_text()) == {"held": []}


def test_an_affinity_original_from_the_other_mode_is_refused(cg: Path, tmp_path: Path) -> None:
    state = tmp_path / "linux-state.json"
    (cg / "cpuset.cpus").write_text("0-1\n")
    cpuset = LinuxBackend(cgroup_root=tmp_path, state_file=state, affinity="cpuset")
    cpuset.apply(command("CPU_AFFINITY", amount=1.0, unit="cpus"))
    assert read(cg, "cpuset.cpus") == "0-2"
    sched = LinuxBackend(cgroup_root=tmp_path, state_file=state)  # restarted in sched mode
    out = sched.apply(command("CPU_AFFINITY", "RELEASE", 0.0, "cpus"))
    assert out["status"] == "FAILED" and 'with "affinity": "cpuset" until' in out["detail"]
    assert read(cg, "cpuset.cpus") == "0-2" and len(sched.held()) == 1
    again = LinuxBackend(cgroup_root=tmp_path, state_file=state, affinity="cpuset")
    assert again.apply(command("CPU_AFFINITY", "RELEASE", 0.0, "cpus"))["status"] == "APPLIED"
    assert read(cg, "cpuset.cpus") == "0-1"


def test_an_unreadable_state_file_stops_the_start(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    with pytest.raises(ConfigError, match="restore its settings by hand"):
        LinuxBackend(cgroup_root=tmp_path, state_file=state)


# ------------------------------------------------------------------------------ options
def test_from_options_builds_the_backend(tmp_path: Path) -> None:
    cg = cgroup(tmp_path, "custom/web-1_api.service")
    backend = LinuxBackend.from_options(
        {"cgroup_root": str(tmp_path), "cgroups": {"web-1/*": "custom/{host}_{service}"},
         "cpus": "2-3", "net": {"web-1/api.service": {"dev": "eth0", "classid": "1:10"}},
         "tc_path": "/usr/sbin/tc", "state_file": None, "cache_size": 5,
         "affinity": "cpuset", "ionice": False},
        hosts=("web-1",))
    assert backend.ownership.hosts == ("web-1",) and backend.net["web-1/api.service"] == (
        "eth0", "1:10")
    assert backend.affinity == "cpuset" and isinstance(backend.knobs["CPU_AFFINITY"], CpusetKnob)
    nice = backend.knobs["NICE"]
    assert isinstance(nice, NiceKnob) and not nice.ionice
    default = LinuxBackend.from_options({"cgroup_root": str(tmp_path)})
    assert default.affinity == "sched" and isinstance(default.knobs["CPU_AFFINITY"], AffinityKnob)
    nice = default.knobs["NICE"]
    assert isinstance(nice, NiceKnob) and nice.ionice
    backend.apply(command())
    assert read(cg, "cpu.weight") == "300"


@pytest.mark.parametrize(("options", "message"), [
    ({"cgroup_rot": "/x"}, "unknown linux backend option(s) 'cgroup_rot'; valid: "
     "cgroup_root, cgroups"),
    ({"cgroup_root": 3}, "'cgroup_root' = 3"),
    ({"cpus": "a-b"}, "'cpus'"),
    ({"cache_size": 0}, "'cache_size'"),
    ({"affinity": "taskset"}, "'affinity' = 'taskset': valid values are sched, cpuset"),
    ({"affinity": None}, "valid values are sched, cpuset"),
    ({"ionice": "yes"}, "'ionice' = 'yes': expected true or false"),
    ({"cgroups": {}}, "'cgroups'"),
    ({"cgroups": {"*/*": "x/{svc}"}}, "bad placeholder"),
    ({"net": {"*": {"dev": "eth0"}}}, "'net'"),
    ({"net": {"*": {"dev": "eth0", "classid": "10"}}}, "'net'"),
    ([1, 2], "must be a table"),
])
def test_bad_options_are_config_errors_naming_the_key(options: Any, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        LinuxBackend.from_options(options)
    assert message in str(err.value)


# ------------------------------------------------------------------------------ tc
def test_tc_rates_parse_in_bits_per_second() -> None:
    assert parse_rate("100Mbit") == 100e6 and parse_rate("1.5Gbit") == 1.5e9
    assert parse_rate("12Kbps") == 96e3 and parse_rate("8Kibit") == 8192.0
    with pytest.raises(BackendError, match="not understood"):
        parse_rate("fast")


def test_tc_knob_reads_the_printed_class_and_changes_it() -> None:
    calls: list[list[str]] = []

    def tc(argv: Sequence[str]) -> str:  # tc 6.1's output for this class, recorded
        calls.append(list(argv))
        return ("class htb 1:10 parent 1:1 prio 0 rate 100Mbit ceil 200Mbit burst 1600b "
                "cburst 1600b \n" if argv[2] == "show" else "")

    knob = TcClassKnob("tc", tc)
    original = knob.read(("eth0", "1:10"))
    assert original == {"parent": "1:1", "rate": "100Mbit", "ceil": "200Mbit",
                        "burst": "1600b", "cburst": "1600b"}
    knob.grant(("eth0", "1:10"), original, 50e6)
    assert calls[-1] == ["tc", "class", "change", "dev", "eth0", "parent", "1:1", "classid",
                         "1:10", "htb", "rate", "150000000bit", "ceil", "250000000bit"]
    with pytest.raises(BackendError, match="no HTB class 1:11"):
        knob.read(("eth0", "1:11"))


def free_ifb() -> str | None:
    """An ifb device with no root qdisc of its own, when tc can be run as root here."""
    if os.geteuid() != 0 or shutil.which("tc") is None:
        return None
    for dev in sorted(p.name for p in Path("/sys/class/net").glob("ifb*")):
        shown = subprocess.run(["tc", "qdisc", "show", "dev", dev], capture_output=True,
                               text=True, check=False).stdout
        if "htb" not in shown:
            return dev
    return None


IFB = free_ifb()


@pytest.mark.skipif(IFB is None, reason="needs root, tc and a spare ifb device")
def test_net_bandwidth_on_a_real_htb_class(tmp_path: Path) -> None:
    assert IFB is not None
    subprocess.run(["tc", "qdisc", "add", "dev", IFB, "root", "handle", "1:", "htb"],
                   check=True, capture_output=True)
    try:
        subprocess.run(["tc", "class", "add", "dev", IFB, "parent", "1:", "classid", "1:10",
                        "htb", "rate", "100mbit", "ceil", "120mbit"], check=True,
                       capture_output=True)
        before = shown_class(IFB)
        backend = LinuxBackend(cgroup_root=tmp_path,
                               net={"web-1/*": {"dev": IFB, "classid": "1:10"}})
        out = backend.apply(command("NET_BANDWIDTH", amount=50.0, unit="Mbit/s"))
        assert out["status"] == "APPLIED", out["detail"]
        assert "rate 150Mbit ceil 170Mbit" in shown_class(IFB)
        backend.apply(command("NET_BANDWIDTH", amount=10.0, unit="Mbit/s"))
        assert "rate 110Mbit ceil 130Mbit" in shown_class(IFB)
        backend.apply(command("NET_BANDWIDTH", "RELEASE", 0.0, "Mbit/s"))
        assert shown_class(IFB) == before  # default bursts: restored exactly
        subprocess.run(["tc", "class", "change", "dev", IFB, "parent", "1:", "classid", "1:10",
                        "htb", "rate", "100mbit", "ceil", "120mbit", "burst", "3000b",
                        "cburst", "6000b"], check=True, capture_output=True)
        backend.apply(command("NET_BANDWIDTH", amount=50.0, unit="Mbit/s"))
        assert "burst 3000b" not in shown_class(IFB)  # tc recomputed bursts for the new rate
        backend.apply(command("NET_BANDWIDTH", "PREEMPT", 0.0, "Mbit/s"))
        restored = shown_class(IFB).split()
        assert restored[restored.index("burst") + 1] == "3000b"
        cburst = restored[restored.index("cburst") + 1]
        assert 5900 <= size_bytes(cburst) <= 6000  # kept in kernel ticks: within one tick
    finally:
        subprocess.run(["tc", "qdisc", "del", "dev", IFB, "root"], check=False,
                       capture_output=True)


def size_bytes(text: str) -> float:
    """A size as tc prints it (``1575b``, ``6Kb``, ``1Mb``) in bytes."""
    for suffix, scale in (("Mb", 2**20), ("Kb", 2**10), ("b", 1)):
        if text.endswith(suffix):
            return float(text.removesuffix(suffix)) * scale
    raise AssertionError(f"tc size {text!r}")


def shown_class(dev: str) -> str:
    return subprocess.run(["tc", "class", "show", "dev", dev, "classid", "1:10"],
                          capture_output=True, text=True, check=True).stdout.strip()
