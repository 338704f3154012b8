"""The trace reader on real Bitbrains GWA-T-12 files, as shipped and altered the ways a user's
copy may be: gz or not, one or two folder levels, timestamps in seconds (the archive's quirk)
or in milliseconds (what its header says), gaps; and the long CSV format."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from schemas.errors import ConfigError
from streams.sim.traces import load_traces, read_bitbrains, read_long_csv, samples

DATA = Path("/work/shared/data/bitbrains/rnd/2013-7")
needs_data = pytest.mark.skipif(not (DATA / "1.csv.gz").exists(),
                                reason="the shared Bitbrains subset is not here")


def _lines(vm: int) -> list[str]:
    with gzip.open(DATA / f"{vm}.csv.gz", "rt") as f:
        return f.read().splitlines()


@needs_data
def test_a_shipped_gz_file_reads_whole_in_seconds() -> None:
    t = read_bitbrains(DATA / "1.csv.gz")
    lines = _lines(1)
    assert len(t) == len(lines) - 1 == 8260
    first = lines[1].split(";")
    assert t.ts[0] == int(first[0]) == 1372629804  # seconds, although the header says ms
    assert t.demand["cpu"][0] == pytest.approx(float(first[3]))
    assert t.demand["mem"][0] == pytest.approx(float(first[6]))
    assert t.capacity["cpu"][0] == pytest.approx(float(first[2]))
    assert t.demand["disk"][0] == pytest.approx(float(first[7]) + float(first[8]))
    assert t.step_s == 300
    assert np.all(np.diff(t.ts) > 0)
    # July 2013: the 30 days the archive says
    assert 29 * 86400 < t.ts[-1] - t.ts[0] < 32 * 86400


@needs_data
def test_milliseconds_plain_csv_and_gaps_read_the_same(tmp_path: Path) -> None:
    lines = _lines(2)
    header, rows = lines[0], lines[1:]
    kept = rows[:100] + rows[400:]  # a 300-step (25 h) gap
    ms = [str(int(r.split(";")[0]) * 1000) + r[r.index(";"):] for r in kept]
    (tmp_path / "2.csv").write_text("\n".join([header, *ms]) + "\n")
    t_ms = read_bitbrains(tmp_path / "2.csv")
    full = read_bitbrains(DATA / "2.csv.gz")
    assert len(t_ms) == len(kept)
    np.testing.assert_array_equal(t_ms.ts[:100], full.ts[:100])
    np.testing.assert_array_equal(t_ms.ts[100:], full.ts[400:])
    assert t_ms.ts[100] - t_ms.ts[99] == full.ts[400] - full.ts[99] > 80_000
    np.testing.assert_allclose(t_ms.demand["mem"][100:], full.demand["mem"][400:])
    assert t_ms.step_s == 300  # the gap does not change the usual step


@needs_data
def test_one_or_two_levels_and_bad_rows(tmp_path: Path) -> None:
    (tmp_path / "2013-7").mkdir()
    shutil.copy(DATA / "3.csv.gz", tmp_path / "2013-7" / "3.csv.gz")
    lines = _lines(4)
    (tmp_path / "4.csv").write_text("\n".join([lines[0], lines[1], "garbage;;", "1;2",
                                               *lines[2:50]]) + "\n")
    traces = load_traces(tmp_path)
    assert [t.component for t in traces] == ["4", "2013-7/3"]
    assert traces[0].skipped == 2 and len(traces[0]) == 49
    assert load_traces(tmp_path / "2013-7")[0].component == "3"
    with pytest.raises(ConfigError):
        load_traces(tmp_path / "nothing-here")


def test_long_csv(tmp_path: Path) -> None:
    p = tmp_path / "fleet.csv"
    p.write_text("ts,component,metric,value\n"
                 "1700000000,web-1,cpu,2.0\n1700000000,web-1,mem,100\n"
                 "1700000000,web-1,cpu.capacity,8\n"
                 "1700000300,web-1,cpu,3.0\n"  # mem missing: carried forward
                 "1700000600,web-1,cpu,1.0\n1700000600,web-1,mem,120\n"
                 "1700000000,db-1,cpu,5\n1700000000000,db-1,mem,7\n"  # ms read as s
                 "oops,db-1,cpu,1\n1700000000,db-1,swap,3\n")
    traces = read_long_csv(p)
    assert [t.component for t in traces] == ["db-1", "web-1"]
    web = traces[1]
    np.testing.assert_array_equal(web.ts, [1700000000, 1700000300, 1700000600])
    np.testing.assert_allclose(web.demand["cpu"], [2.0, 3.0, 1.0])
    np.testing.assert_allclose(web.demand["mem"], [100.0, 100.0, 120.0])
    np.testing.assert_allclose(web.capacity["cpu"], [8.0, 8.0, 8.0])
    assert traces[0].skipped == 2
    np.testing.assert_array_equal(traces[0].ts, [1700000000])  # the ms row is the same step
    s = list(samples(web))
    assert s[1]["ts"] == 1700000300_000
    assert s[1]["metrics"]["cpu.used_mhz"] == 3.0 and s[1]["metrics"]["cpu.util"] == 3.0 / 8
    assert "mem.used_pct" not in s[1]["metrics"]  # no provisioned memory given
    assert load_traces(p)[1].component == "web-1"


@needs_data
def test_samples_are_metric_sample_shaped() -> None:
    t = read_bitbrains(DATA / "1.csv.gz")
    s = next(iter(samples(t)))
    assert s["component"] == s["host"] == "1" and s["ts"] == 1372629804_000
    m = s["metrics"]
    assert m["cpu.util"] == pytest.approx(87.7799835 / 5851.9989)
    assert m["mem.used_pct"] == pytest.approx(100 * 1034592.8 / 8218624.0)
    assert set(m) == {"cpu.used_mhz", "mem.used_kb", "cpu.util", "mem.used_pct",
                      "cpu.capacity_mhz", "mem.capacity_kb", "disk.kb_s", "net.kb_s"}
    assert m["cpu.capacity_mhz"] == 5851.9989
