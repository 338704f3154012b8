"""The trace reader's event-time window (``--start`` / ``--end``): ``start <= ts < end`` on a
hand-made CSV, the bounds' formats, a component with no sample in the window (or switched off
throughout it) left out, and a
windowed backtest equal to one over the traces cut by hand (every policy starts cold there)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson
import pytest

from schemas.errors import ConfigError
from streams.lab.backtest import clean_json
from streams.lab.trace import backtest_trace
from streams.sim.traces import Trace, load_traces, parse_time, window

T0 = 1_373_925_600  # 2013-07-15T22:00:00Z


def _long_csv(path: Path) -> Path:
    """Component ``a`` at T0 + 0, 300, ..., 2700 (10 steps); ``b`` at T0 + 1500 ... 2700."""
    rows = ["ts,component,metric,value"]
    for i in range(10):
        t = T0 + 300 * i
        rows += [f"{t},a,cpu,{100 + 10 * i}", f"{t},a,mem,{1000 + i}",
                 f"{t},a,cpu.capacity,400", f"{t},a,mem.capacity,4000"]
        if i >= 5:
            rows += [f"{t},b,cpu,{50 + i}", f"{t},b,mem,{500 + i}"]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_bounds_read_as_unix_seconds_or_iso_dates_utc() -> None:
    assert parse_time("1373925600") == T0
    assert parse_time("1373925600.9") == T0  # whole seconds, as the reader's timestamps
    assert parse_time("2013-07-15T22:00") == T0
    assert parse_time("2013-07-15T22:00:00Z") == T0
    assert parse_time("2013-07-16T00:00:00+02:00") == T0
    assert parse_time("2013-07-16") == T0 + 7200  # a date is its midnight, UTC
    for bad in ("15/07/2013", "soon", "nan"):
        with pytest.raises(ConfigError):
            parse_time(bad)


def test_the_window_keeps_start_and_drops_end(tmp_path: Path) -> None:
    p = _long_csv(tmp_path / "fleet.csv")
    whole = load_traces(p)
    assert [len(t) for t in whole] == [10, 5]
    a, b = load_traces(p, start=T0 + 600, end=T0 + 1800)
    np.testing.assert_array_equal(a.ts, T0 + 300 * np.arange(2, 6))  # 600 in, 1800 out
    np.testing.assert_array_equal(a.demand["cpu"], [120.0, 130.0, 140.0, 150.0])
    np.testing.assert_array_equal(a.capacity["mem"], np.full(4, 4000.0))
    np.testing.assert_array_equal(b.ts, [T0 + 1500])
    # consecutive windows share no sample and lose none
    left = load_traces(p, end=T0 + 1800)
    right = load_traces(p, start=T0 + 1800)
    for i in range(2):
        np.testing.assert_array_equal(np.concatenate([left[i].ts, right[i].ts]), whole[i].ts)
    # a component with no sample in the window is left out; none at all is an error
    assert [t.component for t in load_traces(p, end=T0 + 1500)] == ["a"]
    with pytest.raises(ConfigError):
        load_traces(p, start=T0 + 3000)
    assert window(whole[0]) is whole[0]  # no bounds: the trace itself
    assert window(whole[0], start=T0 + 2701) is None


def test_a_vm_off_throughout_the_window_is_left_out(tmp_path: Path) -> None:
    """All zero (no provisioned size, no demand) in the window: a VM switched off, left out
    (its size unit would be 1); one non-zero value keeps it."""
    p = _long_csv(tmp_path / "fleet.csv")
    rows = p.read_text().splitlines()
    rows += [f"{T0 + 300 * i},c,{m},{1.0 if (i, m) == (7, 'mem') else 0.0}"
             for i in range(10) for m in ("cpu", "mem", "cpu.capacity", "mem.capacity")]
    p.write_text("\n".join(rows) + "\n")
    assert [t.component for t in load_traces(p, end=T0 + 2100)] == ["a", "b"]
    assert [len(t) for t in load_traces(p, start=T0 + 2100)] == [3, 3, 3]
    assert len(load_traces(p)[2]) == 10  # without a window every trace is kept


def test_a_windowed_backtest_starts_cold_at_the_window(tmp_path: Path) -> None:
    p = _long_csv(tmp_path / "fleet.csv")
    pols = ["static", "reactive", "vpa"]
    got = backtest_trace(str(p), pols, jobs=1, start=T0 + 900)
    by_hand = [Trace(t.component, t.ts[k:], {r: v[k:] for r, v in t.demand.items()},
                     {r: v[k:] for r, v in t.capacity.items()}, t.units)
               for t, k in zip(load_traces(p), (3, 0), strict=True)]
    ref = backtest_trace(by_hand, pols, jobs=1)
    assert got.pop("window") == {"start": T0 + 900, "end": None}
    assert "window" not in ref
    assert orjson.dumps(clean_json(got), option=orjson.OPT_SORT_KEYS) == \
        orjson.dumps(clean_json(ref), option=orjson.OPT_SORT_KEYS)
    assert got["steps"] == 7 + 5


def test_cli_window(tmp_path: Path) -> None:
    p = _long_csv(tmp_path / "fleet.csv")
    cmd = [sys.executable, "-m", "streams.cli", "backtest", "trace", "--data", str(p),
           "--policy", "reactive", "--json", "--jobs", "1", "--out", str(tmp_path / "o"),
           "--start", "2013-07-15T22:15", "--end", str(T0 + 1500)]
    got = orjson.loads(subprocess.run(cmd, capture_output=True, check=True,
                                      timeout=300).stdout)
    assert got["window"] == {"start": T0 + 900, "end": T0 + 1500}
    assert got["components"] == 1 and got["steps"] == 2
    bad = subprocess.run([*cmd[:-2], "--end", "someday"], capture_output=True, timeout=300)
    assert bad.returncode == 2 and b"ISO 8601" in bad.stderr
