"""``forewarn prior learn`` (session 26, docs/closedloop.md "Learning a fleet's own prior"):
a fleet prior learnt from a fleet's exported history, in every trace format ``backtest trace``
reads, through actuators.fleetprior's one learning function; same input, same bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from actuators.fleetprior import FORMAT, dumps, learn, load
from actuators.rightsize import make_sizer
from actuators.sizerbase import DAY
from schemas.errors import ConfigError
from streams.cli.commands import main
from streams.cli.prior import number, parse_vms
from streams.lab.trace.prior import learn_traces
from streams.settings import Settings
from streams.sim.traces import load_traces

STEP = 300
T0 = 1_700_000_000
SIZE = 8_000_000.0  # KB


def _mem(days: float, phase: int) -> np.ndarray:
    """Memory idling at 1 GB with a 6 GB burst for an hour twice a day."""
    i = np.arange(int(days * DAY / STEP))
    return np.where(((i + phase) % 144) < 12, 6_000_000.0, 1_000_000.0 + (i % 7) * 1000.0)


def _long_csv(path: Path, comps: dict[str, np.ndarray]) -> Path:
    rows = ["ts,component,metric,value"]
    for comp, mem in comps.items():
        for i, m in enumerate(mem.tolist()):
            t = T0 + i * STEP
            rows += [f"{t},{comp},cpu,{100 + i % 5}", f"{t},{comp},mem,{m}",
                     f"{t},{comp},mem.capacity,{SIZE}"]
    path.write_text("\n".join(rows) + "\n")
    return path


def _bitbrains(path: Path, mem: np.ndarray) -> Path:
    head = ("Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\t"
            "CPU usage [%];\tMemory capacity provisioned [KB];\tMemory usage [KB];\t"
            "Disk read throughput [KB/s];\tDisk write throughput [KB/s];\t"
            "Network received throughput [KB/s];\tNetwork transmitted throughput [KB/s]")
    rows = [head] + [";\t".join(map(str, (T0 + i * STEP, 2, 5000, 100 + i % 5, 2, SIZE, m,
                                            0, 0, 0, 0)))
                     for i, m in enumerate(mem.tolist())]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")
    return path


def test_learn_from_a_long_csv(tmp_path: Path) -> None:
    """Three components learnt, a short one and an idle one left out with why; the file loads
    as a prior (each forecaster's shares sum to 1) and a forewarn sizer takes it."""
    csv = _long_csv(tmp_path / "fleet.csv", {
        "web-1": _mem(2, 0), "web-2": _mem(2, 50), "db-7": _mem(3, 90),
        "short-3": _mem(0.5, 0), "idle-4": np.zeros(600)})
    doc, left = learn_traces(load_traces(csv))
    assert doc["format"] == FORMAT and doc["components"] == 3
    assert doc["trained_on"] == {"vms": ["db-7", "web-1", "web-2"], "start": None, "end": None}
    assert left == ["idle-4 (no memory demand above 0)",
                    "short-3 (too short: 11.9 h of samples, at least 24 h)"]
    path = tmp_path / "prior.json"
    path.write_text(dumps(doc))
    shares = load(path)
    assert set(shares) == {"level", "window", "peak", "week"}
    assert all(p.sum() == pytest.approx(1.0) for p in shares.values())
    make_sizer("forewarn", (0.01,), capacity=SIZE, step_s=STEP, resource="mem",
               fleet_prior=str(path))
    again, _ = learn_traces(load_traces(csv))
    assert dumps(again) == dumps(doc)  # deterministic: the same bytes
    with pytest.raises(ConfigError, match="no component to learn from"):
        learn([], 300)


def test_every_format_learns_the_same(tmp_path: Path) -> None:
    """The same series as Bitbrains files two levels deep, one gzip-free file, and a long CSV:
    the same prior (ids aside)."""
    mems = {"1": _mem(2, 0), "2": _mem(2, 70)}
    for vm, mem in mems.items():
        _bitbrains(tmp_path / "bb" / "2013-7" / f"{vm}.csv", mem)
    long, _ = learn_traces(load_traces(_long_csv(tmp_path / "l.csv", mems)))
    bb, _ = learn_traces(load_traces(tmp_path / "bb"))
    assert bb["trained_on"]["vms"] == ["2013-7/1", "2013-7/2"]
    assert bb["forecasters"] == long["forecasters"]
    one, _ = learn_traces(load_traces(tmp_path / "bb" / "2013-7" / "2.csv"))
    assert one["components"] == 1


def test_the_cli_end_to_end(tmp_path: Path) -> None:
    """In a subprocess: the file written is the learning function's bytes; --vms and --start
    pick components and a window, recorded in the file; backtest trace and, live, the setting
    sizing_fleet_prior load it."""
    csv = _long_csv(tmp_path / "fleet.csv",
                    {"web-1": _mem(3, 0), "web-2": _mem(3, 50), "web-30": _mem(3, 90)})
    out = tmp_path / "p" / "prior.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    start = T0 + DAY // 2
    run = subprocess.run([sys.executable, "-m", "streams.cli", "prior", "learn", "--data",
                          str(csv), "--out", str(out), "--vms", "1-2", "--start", str(start)],
                         capture_output=True, text=True, env=env, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert "2 components" in run.stdout
    want, _ = learn_traces(load_traces(csv, ["web-1", "web-2"], start), start=start)
    assert out.read_text() == dumps(want)
    assert json.loads(out.read_text())["trained_on"]["start"] == start
    res = main(["backtest", "trace", "--data", str(csv), "--policy", "forewarn", "--jobs", "1",
                "--components", "web-30", "--fleet-prior", str(out), "--out",
                str(tmp_path / "bt")])
    assert res == 0
    from streams.runtime.sizing import make_sizing  # live: the setting names the file

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FOREWARN_SIZING_FLEET_PRIOR", str(out))
        named = Settings.load().sizing_fleet_prior
    assert named == str(out)
    make_sizing("forewarn", None, 300, 300, fleet_prior=named)


@pytest.mark.parametrize(("rows", "args", "says"), [
    (None, [], "no such file or directory"),
    ("ts,component,metric,value\n1700000000,a,cpu,5\n", [], "no component with both cpu and mem"),
    ("short", [], "too short: 11.9 h of samples"),
    ("short", ["--vms", "7-9"], "no component id ending in a number in 7-9"),
    ("short", ["--vms", "x"], "expected ranges like 1-50,60"),
])
def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               rows: str | None, args: list[str], says: str) -> None:
    data = tmp_path / "in.csv"
    if rows == "short":
        _long_csv(data, {"web-1": _mem(0.5, 0)})
    elif rows is not None:
        data.write_text(rows)
    out = tmp_path / "prior.json"
    assert main(["prior", "learn", "--data", str(data), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("forewarn: ") and says in err and "\n" not in err
    assert not out.exists()


def test_left_out_is_one_stderr_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _long_csv(tmp_path / "in.csv", {"web-1": _mem(2, 0), "web-2": _mem(0.5, 0)})
    out = tmp_path / "prior.json"
    assert main(["prior", "learn", "--data", str(data), "--out", str(out)]) == 0
    got = capsys.readouterr()
    assert got.out.startswith(f"written {out}: 1 component,")
    assert got.err == "left out 1: web-2 (too short: 11.9 h of samples, at least 24 h)\n"
    assert load(out)


def test_vms_ranges() -> None:
    assert parse_vms("1-50,60") == [(1, 50), (60, 60)]
    assert number("2013-7/17") == 17 and number("web-3") == 3 and number("db") is None
