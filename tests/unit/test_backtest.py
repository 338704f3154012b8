"""Backtests on small slices: the NAB harness and its results layout, the fleet figures, SMD,
and the HTML report."""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from processors.pipeline import PipelineConfig
from streams.cli import backtest as backtest_cli
from streams.lab import backtest
from streams.lab.replay import nab_run
from streams.lab.report import Panel, Spans, reliability_svg, series_svg, table_html, thin
from streams.lab.scoring.nab import rest_rows
from tests.unit.test_replay import write_nab_file

PROFILES_JSON = {name: {"CostMatrix": {"tpWeight": 1.0, "fnWeight": fn, "fpWeight": fp,
                                       "tnWeight": 1.0}}
                 for name, fn, fp in (("standard", 1.0, 0.11), ("reward_low_FP_rate", 1.0, 0.22),
                                      ("reward_low_FN_rate", 2.0, 0.11))}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    for flag in ("--config", "--bootstrap-servers", "--topic-prefix"):
        p.add_argument(flag)
    backtest_cli.add_subcommand(p.add_subparsers(dest="command"))
    return p


def tiny_nab(root: Path) -> Path:
    """Two labelled files and one without windows, NAB's layout."""
    write_nab_file(root / "data" / "realA" / "one.csv", rows=400, spike_at=300)
    write_nab_file(root / "data" / "realA" / "two.csv", rows=300, spike_at=250)
    write_nab_file(root / "data" / "artB" / "calm.csv", rows=200, spike_at=-1)
    windows = {"realA/one.csv": [["2014-04-02 00:40:00.000000", "2014-04-02 01:20:00.000000"]],
               "realA/two.csv": [["2014-04-01 20:30:00.000000", "2014-04-01 21:10:00.000000"]],
               "artB/calm.csv": []}
    (root / "combined_windows.json").write_text(json.dumps(windows))
    (root / "profiles.json").write_text(json.dumps(PROFILES_JSON))
    return root


def test_nab_backtest_writes_results_scores_and_report(tmp_path: Path) -> None:
    data, out = tiny_nab(tmp_path / "nab"), tmp_path / "out"
    result = backtest.backtest_nab(data, out, ("forewarn", "null", "random"), PipelineConfig())
    assert result["corpus"] == {"data": str(data), "files": 3, "scored_files": 3, "windows": 2,
                                "rows": 900}
    for name, rows in (("realA/one.csv", 400), ("realA/two.csv", 300), ("artB/calm.csv", 200)):
        with (out / "results" / name).open() as fh:  # the first detector: OUT/results
            table = list(csv.reader(fh))
        assert table[0] == ["timestamp", "value", "anomaly_score"] and len(table) == rows + 1
        assert all(0.0 <= float(r[2]) <= 1.0 for r in table[1:])
        assert (out / "null" / "results" / name).is_file()  # the others: OUT/<detector>/
    scores = json.loads((out / "scores.json").read_text())
    assert set(scores["detectors"]) == {"forewarn", "null", "random"}
    assert set(scores["detectors"]["null"]) == set(backtest.PROFILES)
    assert all(scores["detectors"]["null"][p]["normalised"] == 0.0 for p in backtest.PROFILES)
    assert scores["detectors"]["null"]["standard"]["threshold"] is None  # inf: detect nothing
    fw = scores["detectors"]["forewarn"]["standard"]
    assert fw["tp"] + fw["fn"] == fw["windows"] == 2
    assert set(fw["per_file"]) == {"realA/one.csv", "realA/two.csv", "artB/calm.csv"}
    # the results file holds exactly the replay's per-row scores, its rest set per file
    expected, _ = nab_run(data / "data" / "realA" / "one.csv",
                          PipelineConfig(anomaly_rest=rest_rows(400)), component="realA/one.csv")
    with (out / "results" / "realA" / "one.csv").open() as fh:
        assert [float(r[2]) for r in list(csv.reader(fh))[1:]] == expected.tolist()
    assert scores["published_full_corpus"]["Numenta HTM"]["standard"] == 70.5
    page = (out / "index.html").read_text()
    assert page.count("<svg") == 9  # three files x three detectors
    assert "realA/one.csv" in page and "Numenta HTM" in page and "<script" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_fleet_json_has_the_figures(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = parser().parse_args(["backtest", "fleet", "--scenario", "ramp", "--json", "--jobs",
                                "1", "--out", str(tmp_path)])
    assert args.func(args) == 0
    result = json.loads(capsys.readouterr().out)
    f = result["scenarios"]["ramp"]
    assert {"precision", "recall", "lead_time_s", "lead_times_s", "false_alarms_per_component_day",
            "brier", "reliability", "best_f1", "breaches", "episodes", "threshold",
            "eta_abs_error_s_median"} <= set(f)
    assert set(f["recall"]) == {"60", "300", "900"}
    assert {"min", "p25", "median", "p75", "max", "mean", "n"} == set(f["lead_time_s"])
    assert len(f["reliability"]) == 10 and f["breaches"] >= 1
    # the default alarm point: 1 / (1 + miss_cost_ratio 2), issue #15
    assert 0.0 <= f["brier"] <= 1.0 and f["threshold"] == pytest.approx(1 / 3)
    assert 0.0 <= f["brier_fail_left_out"] <= 1.0  # the earlier label (see below)
    assert (tmp_path / "scores.json").is_file()
    page = (tmp_path / "index.html").read_text()
    assert page.count("<svg") >= 3  # reliability, lead times, the incident's timeline
    assert "load_surge on web-01" in page


def test_breaches_merge_flicker_within_the_gap() -> None:
    truth = {"now_ms": 10_000_000, "components": {"a": {"fail_intervals": {
        "cpu.util": [[1_000, 2_000], [2_500, 3_000], [900_000, None]],
        "errors.rate": [[5_000, 6_000]]}}}}
    got = [(b.metric, b.breach_ms) for b in backtest.breaches_of(truth, merge_gap_ms=60_000)]
    assert got == [("cpu.util", 1_000), ("errors.rate", 5_000), ("cpu.util", 900_000)]


def test_smd_backtest_on_a_tiny_machine(tmp_path: Path) -> None:
    machine = tmp_path / "smd" / "machine-9-9"
    machine.mkdir(parents=True)
    rng = np.random.default_rng(1)
    n_train, n_test = 150, 150
    rows = 0.5 + 0.05 * rng.standard_normal((n_train + n_test, 3))
    rows[n_train + 100: n_train + 110] += 2.0  # the labelled anomaly
    for name, lo, hi in (("train", 0, n_train), ("test", n_train, n_train + n_test)):
        lines = ["ts,m0,m1,m2"] + [f"{i},{','.join(f'{v:.5f}' for v in rows[i])}"
                                   for i in range(lo, hi)]
        (machine / f"{name}.csv").write_text("\n".join(lines) + "\n")
    labels = ["ts,label"] + [f"{i},{int(n_train + 100 <= i < n_train + 110)}"
                             for i in range(n_train, n_train + n_test)]
    (machine / "test_label.csv").write_text("\n".join(labels) + "\n")
    result = backtest.backtest_smd(tmp_path / "smd", PipelineConfig(), tmp_path / "out")
    r = result["machines"]["machine-9-9"]
    assert r["test_rows"] == 150 and r["segments"] == 1
    assert 0.0 <= r["f1"] <= r["f1_pa"] <= 1.0 and 0.0 <= r["random_f1"] <= 1.0
    assert r["anomaly_ratio"] == pytest.approx(10 / 150)
    assert "<svg" in (tmp_path / "out" / "index.html").read_text()


def test_smd_held_out_threshold_comes_from_the_other_machine(tmp_path: Path) -> None:
    from dataclasses import replace

    rng = np.random.default_rng(2)
    for k, name in enumerate(("machine-1-1", "machine-1-2")):
        machine = tmp_path / "smd" / name
        machine.mkdir(parents=True)
        rows = 0.5 + 0.02 * rng.standard_normal((600, 4))
        rows[500 + 10 * k: 520 + 10 * k, 1:3] += 0.3  # two metrics off together
        for part, lo, hi in (("train", 0, 400), ("test", 400, 600)):
            lines = ["ts,m0,m1,m2,m3"] + [f"{i},{','.join(f'{v:.5f}' for v in rows[i])}"
                                          for i in range(lo, hi)]
            (machine / f"{part}.csv").write_text("\n".join(lines) + "\n")
        labels = ["ts,label"] + [f"{i},{int(500 + 10 * k <= i < 520 + 10 * k)}"
                                 for i in range(400, 600)]
        (machine / "test_label.csv").write_text("\n".join(labels) + "\n")
    cfg = replace(PipelineConfig(), anomaly_model="joint")
    result = backtest.backtest_smd(tmp_path / "smd", cfg, None)
    for r in result["machines"].values():
        assert r["anomaly_model"] == "joint"
        assert r["f1_held_out"] > 0.5 and r["event_recall"] == 1.0
        assert r["f1_held_out"] <= r["f1"] + 1e-12  # the machine's own best bounds it
    headers, rows = backtest.smd_table(result)
    assert headers[2] == "F1 (thr. from other)" and len(rows) == 2


def test_report_pieces() -> None:
    x = np.arange(10_000)
    y = np.sin(x / 50.0)
    y[7_777] = 9.0
    tx, ty = thin(x, y, 300)
    assert tx.size <= 600 and 9.0 in ty  # a spike survives the thinning
    svg = series_svg(x, [Panel(y), Panel(np.zeros(x.size), lo=0, hi=1, hline=0.5)],
                     spans=[Spans([(100, 200)])], marks=[7_777], vlines=[5_000])
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and "<rect" in svg
    bins = [{"lower": k / 10, "upper": (k + 1) / 10, "count": 0 if k == 5 else 10,
             "mean_risk": math.nan if k == 5 else k / 10 + 0.05, "frequency": k / 10}
            for k in range(10)]
    assert reliability_svg(bins).count("<circle") == 9
    html = table_html(["a", "b"], [["x", 1.23456], ["y", None]], ["ours"])
    assert '<tr class="ours">' in html and "1.235" in html and "–" in html


def test_fleet_run_gives_the_pipeline_the_scenarios_dependencies(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.lab import replay

    seen: list[PipelineConfig] = []

    class Recording(replay.Replay):
        def __init__(self, config: PipelineConfig | None = None, **kw: object) -> None:
            seen.append(config or PipelineConfig())
            super().__init__(config, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(replay, "Replay", Recording)
    run = backtest.fleet_run("ramp", 1, PipelineConfig(), 0.6, {"duration_s": 300})
    assert run["scenario"] == "ramp" and len(seen) == 1
    assert set(seen[0].dependencies) == {("web-01", "app-01/api"), ("web-02", "app-01/api"),
                                         ("app-01/api", "db-01/postgres")}


def test_brier_label_is_the_models_own_inside_an_ongoing_fail_too() -> None:
    """Risk is P(a new FAIL within the horizon), the label the pipeline learns from: a
    window inside an ongoing FAIL is asked it too (label 0 unless a new breach follows), not
    left out when no breach follows, which chose those windows on their outcome (#15, s15)."""
    from streams.lab.scoring.breach import Breach, RiskEvent

    m = 60_000
    spans = {"a": (0, 120 * m)}
    breaches = [Breach("a", "cpu", 10 * m)]  # FAIL over [10, 40) min: one breach
    failing = {"a": [(10 * m, 40 * m)]}
    events = [RiskEvent("a", t * m, 0.9 if 10 <= t < 40 else 0.0) for t in range(100)]
    f = backtest.breach_figures(events, breaches, spans, 1 / 3, 900.0, failing)
    # the 30 windows in FAIL read 0.9 and no new breach follows: 30 * 0.81 over the 100
    # windows (the 10 before the breach, within its horizon, read 0 against label 1)
    assert f["brier"] == pytest.approx((30 * 0.81 + 10 * 1.0) / 100)
    assert f["brier_fail_left_out"] == pytest.approx(10 * 1.0 / 70)
    assert f["precision"] == 0.0 and f["episodes"] == 1  # the alarm in FAIL: a false episode
