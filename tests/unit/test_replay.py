"""Replay: same input, same bytes; file sources; NAB results; the CLI."""

from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from processors.pipeline import PipelineConfig
from schemas.codec import Codec
from streams.cli.replay import add_subcommand
from streams.lab.replay import (
    Replay,
    merge_samples,
    nab_run,
    per_row_scores,
    row_time,
    sample_messages,
    table_samples,
    write_json_lines,
)
from streams.sim.simulator import Fleet, scenario

ROOT = Path(__file__).resolve().parents[2]
BASE_MS = 1_767_571_200_000
# ``forewarn replay`` in a fresh interpreter, through this module's own parser (so a broken
# sibling plugin cannot fail this test).
CLI = """
import argparse, sys
from streams.cli.replay import add_subcommand
p = argparse.ArgumentParser()
for flag in ("--config", "--bootstrap-servers", "--topic-prefix"):
    p.add_argument(flag)
add_subcommand(p.add_subparsers(dest="command"))
args = p.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""


def ramp_samples(duration_s: int | None = 1800) -> list[dict]:
    over = {"duration_s": duration_s} if duration_s else {}
    fleet = Fleet(scenario("ramp", seed=3, **over))
    return [s for step in fleet.run() for s in step]


def replay_bytes(samples: list[dict], config: PipelineConfig | None = None) -> bytes:
    buf = io.BytesIO()
    replay = Replay(config)
    write_json_lines(replay.risk(sample_messages(samples, replay.codec)), buf)
    return buf.getvalue()


def test_same_input_gives_the_same_bytes_twice_and_with_a_fresh_pipeline() -> None:
    samples = ramp_samples()
    first = replay_bytes(samples)
    assert first == replay_bytes(samples)  # a second fresh Replay/Pipeline, same process
    assert first == replay_bytes(ramp_samples())  # the samples rebuilt from scratch too
    lines = first.splitlines()
    assert len(lines) == 4 * 31  # four components, samples at 10..1800 s: 31 windows each
    assert lines[0].startswith(b'{"act":null,"alarm":false,"anomaly":')  # keys sorted


def test_cli_replay_gives_the_same_bytes_in_fresh_interpreters(tmp_path: Path) -> None:
    """Two interpreters with different hash seeds (set and dict order must not leak into
    the output), and the in-process replay, all agree."""
    outs = []
    for seed in ("1", "12345"):
        out = tmp_path / f"risk-{seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        env.pop("FOREWARN_CONFIG", None)
        proc = subprocess.run(
            [sys.executable, "-c", CLI, "replay", "--scenario", "ramp", "--seed", "3",
             "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "risk events" in proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0].count(b"\n") == len(replay_bytes(ramp_samples(None)).splitlines())


def test_merge_keeps_file_order_and_sorts_by_time_then_component() -> None:
    a = [{"component": "b", "ts": t} for t in (0, 10, 20)]
    b = [{"component": "a", "ts": t} for t in (10, 30)]
    got = [(s["ts"], s["component"]) for s in merge_samples([a, b])]
    assert got == [(0, "b"), (10, "a"), (10, "b"), (20, "b"), (30, "a")]


def test_table_with_step_index_maps_to_epoch_ms_and_skips_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("ts,m0,m1\n0,0.5,0.1\n1,0.25,\n2,x,0.3\n")
    got = table_samples(path, "machine-1", start_ms=BASE_MS, step_ms=60_000)
    assert [s["ts"] for s in got] == [BASE_MS, BASE_MS + 60_000, BASE_MS + 120_000]
    assert [s["metrics"] for s in got] == [{"m0": 0.5, "m1": 0.1}, {"m0": 0.25}, {"m1": 0.3}]
    assert {s["component"] for s in got} == {"machine-1"}
    path.write_text("ts,cpu\n2026-01-05T00:00:00Z,1\n1767571260,2\n1767571320000,3\n")
    assert [s["ts"] for s in table_samples(path, "c")] == [BASE_MS + k * 60_000 for k in range(3)]


def test_parquet_needs_pyarrow_or_reads(tmp_path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        from schemas.errors import ConfigError

        (tmp_path / "x.parquet").write_bytes(b"PAR1")
        with pytest.raises(ConfigError, match="pyarrow"):
            table_samples(tmp_path / "x.parquet", "c")
        return
    pq.write_table(pa.table({"ts": [BASE_MS], "cpu": [0.5]}), tmp_path / "x.parquet")
    assert table_samples(tmp_path / "x.parquet", "c")[0]["metrics"] == {"cpu": 0.5}


def test_row_time_and_per_row_scores() -> None:
    ts = np.array([0, 300_000, 300_000, 660_000, 900_000], dtype=np.int64)
    regular, step = row_time(ts)
    assert step == 300_000 and regular.tolist() == [0, 300_000, 600_000, 900_000, 1_200_000]
    records = [{"ts": 300_000, "anomaly": 0.1}, {"ts": 900_000, "anomaly": 0.7}]
    # rows 0 and 2 sit in the windows ending at 300 s and 900 s; the others carry forward
    assert per_row_scores(regular, records, step, "anomaly").tolist() == [0.1, 0.1, 0.7, 0.7, 0.7]


def write_nab_file(path: Path, rows: int = 400, spike_at: int = 300) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["timestamp", "value"])
        for i in range(rows):
            v = 10 + np.sin(i / 12) + 0.1 * rng.standard_normal() + (25 if i == spike_at else 0)
            minutes = i * 5
            w.writerow([f"2014-04-{1 + minutes // 1440:02d} {minutes % 1440 // 60:02d}:"
                        f"{minutes % 60:02d}:00", f"{v:.4f}"])


def test_nab_run_gives_each_row_its_own_window(tmp_path: Path) -> None:
    path = tmp_path / "realX" / "spiky.csv"
    write_nab_file(path)
    scores, records = nab_run(path, PipelineConfig(), component="spiky")
    assert scores.shape == (400,) and len(records) == 400  # one window per row
    # row i's score is window i's anomaly (whatever the model makes of it)
    assert scores.tolist() == [r["anomaly"] for r in records]
    assert [r["ts"] for r in records] == sorted(r["ts"] for r in records)
    assert ((scores >= 0) & (scores <= 1)).all()
    risk, _ = nab_run(path, PipelineConfig(), component="spiky", field="risk")
    assert risk.tolist() == [r["risk"] for r in records]


def test_cli_writes_nab_results_layout(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "data" / "realX" / "spiky.csv"
    write_nab_file(path, rows=200, spike_at=150)
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    parser.add_argument("--bootstrap-servers")
    parser.add_argument("--topic-prefix")
    add_subcommand(parser.add_subparsers(dest="command"))
    out = tmp_path / "risk.jsonl"
    args = parser.parse_args(["replay", "--nab", str(path), "--nab-results", str(tmp_path / "o"),
                              "--out", str(out)])
    assert args.func(args) == 0
    written = tmp_path / "o" / "results" / "realX" / "spiky.csv"
    with written.open() as fh:
        rows = list(csv.reader(fh))
    with path.open() as fh:
        source = list(csv.reader(fh))
    assert rows[0] == ["timestamp", "value", "anomaly_score"]
    assert len(rows) == len(source) == 201
    assert [r[0] for r in rows[1:]] == [r[0] for r in source[1:]]
    assert [float(r[1]) for r in rows[1:]] == [float(r[1]) for r in source[1:]]
    assert all(0.0 <= float(r[2]) <= 1.0 for r in rows[1:])
    assert len(out.read_bytes().splitlines()) == 200
    assert "200 samples" in capsys.readouterr().err


def test_dead_letters_are_deterministic_too() -> None:
    def sample(ts: int) -> dict:
        return {"component": "c", "host": "c", "ts": ts, "metrics": {"cpu.util": 0.5},
                "tags": {}}

    # the third sample is two hours late: a dead letter, stamped with the pinned clock
    msgs = list(sample_messages([sample(BASE_MS), sample(BASE_MS + 7_200_000),
                                 sample(BASE_MS - 3_600_000)], Codec()))
    first, second = list(Replay().outs(msgs)), list(Replay().outs(msgs))
    assert first == second
    dead = [Codec().decode(o.value)[1] for o in first if o.topic == "deadletter"]
    assert len(dead) == 1 and dead[0]["stage"] == "late" and dead[0]["ts"] == 0
