"""Leave-one-category-out CV: held-out categories are scored with what others chose."""

from __future__ import annotations

import math

import numpy as np

from streams.lab.cv import NabCorpus, category, expand, loco

DAY = 86_400_000


def _corpus() -> tuple[dict[str, np.ndarray], dict[str, list[tuple[int, int]]]]:
    ts = {f"{c}/f{i}.csv": np.arange(1000, dtype=np.int64) * 60_000
          for c in ("a", "b", "c") for i in range(2)}
    ts["none/quiet.csv"] = np.arange(1000, dtype=np.int64) * 60_000
    wins = {n: [(600 * 60_000, 650 * 60_000)] for n in ts if not n.startswith("none")}
    wins["none/quiet.csv"] = []
    return ts, wins


def test_expand_keeps_the_first_value_first() -> None:
    grid = expand({"x": (1, 2), "y": ("a", "b")})
    assert grid[0] == {"x": 1, "y": "a"} and len(grid) == 4
    assert category("realTraffic/speed.csv") == "realTraffic"


def test_a_config_that_only_works_on_one_category_is_caught_by_its_fold() -> None:
    ts, wins = _corpus()
    corpus = NabCorpus(ts, wins)

    def scores_of(cfg):  # "good" detects every window at its start; "odd" only category a's
        out = {}
        for n in ts:
            s = np.zeros(1000)
            if wins[n] and (cfg["kind"] == "good" or category(n) == "a"):
                s[600] = 1.0
            if cfg["kind"] == "odd" and category(n) != "a":
                s[300] = 0.9  # a false alarm elsewhere
            out[n] = s
        return out

    res = loco(corpus, [{"kind": "good"}, {"kind": "odd"}], scores_of)["standard"]
    assert res.all_in == 100.0 and res.all_in_config == {"kind": "good"}
    assert [f.held_out for f in res.folds] == ["a", "b", "c", "none"]
    assert all(f.config == {"kind": "good"} for f in res.folds)
    assert res.mean == 100.0 and res.pooled == 100.0
    none = res.folds[-1]
    assert math.isnan(none.score) and none.windows == 0 and none.raw == 0.0

    only_odd = loco(corpus, [{"kind": "odd"}], scores_of)["standard"]
    # all-in, the corpus threshold 1.0 finds category a's windows: a third of the way up
    assert only_odd.all_in == 100 * (2 - 4 + 6) / 12
    # held out, each category is scored at the threshold the others chose: a's fold learnt
    # "detect nothing" (b and c hold only false alarms), b's and c's learnt 1.0 from a
    assert [f.threshold for f in only_odd.folds[:3]] == [math.inf, 1.0, 1.0]
    assert [f.score for f in only_odd.folds[:3]] == [0.0, 0.0, 0.0]
    assert only_odd.pooled == 0.0 < only_odd.all_in


def test_select_on_one_profile_keeps_one_configuration_and_moves_only_the_threshold() -> None:
    ts, wins = _corpus()
    corpus = NabCorpus(ts, wins)

    def scores_of(cfg):  # "eager" finds every window but also raises 12 false alarms per file
        out = {}
        for n in ts:
            s = np.zeros(1000)
            if cfg["kind"] == "eager" and wins[n]:
                s[600] = 1.0
                s[200:212] = 1.0
            out[n] = s
        return out

    configs = [{"kind": "shy"}, {"kind": "eager"}]
    per = loco(corpus, configs, scores_of)
    # per profile: standard takes the eager detector (1 - 12 * 0.11 > -1), low FP the shy one
    # (1 - 12 * 0.22 < -1)
    assert per["standard"].all_in_config == {"kind": "eager"}
    assert per["reward_low_FP_rate"].all_in_config == {"kind": "shy"}
    one = loco(corpus, configs, scores_of, profiles=["reward_low_FP_rate"], select_on="standard")
    low = one["reward_low_FP_rate"]
    assert low.all_in_config == {"kind": "eager"}
    assert all(f.config == {"kind": "eager"} for f in low.folds)
    # its threshold is still chosen on the low-FP profile: every alarm costs more than it gains
    assert all(f.threshold == math.inf for f in low.folds[:3])
    assert set(one) == {"reward_low_FP_rate", "standard"}


def test_the_command_line_runs_both_protocols_on_tiny_data(tmp_path, capsys) -> None:
    import json

    from streams.lab.cv import main

    rng = np.random.default_rng(3)
    nab = tmp_path / "nab"
    windows = {}
    for cat in ("catA", "catB"):
        (nab / "data" / cat).mkdir(parents=True)
        values = 10 + rng.standard_normal(800)
        values[700] = 60.0
        stamps = [f"2020-01-01 {i // 60:02d}:{i % 60:02d}:00" for i in range(800)]
        body = "".join(f"{t},{v:.4f}\n" for t, v in zip(stamps, values, strict=True))
        (nab / "data" / cat / "f.csv").write_text("timestamp,value\n" + body)
        windows[f"{cat}/f.csv"] = [[f"{stamps[695]}.000000", f"{stamps[720]}.000000"]]
    (nab / "combined_windows.json").write_text(json.dumps(windows))
    (nab / "profiles.json").write_text(json.dumps({p: {"CostMatrix": {
        "tpWeight": 1.0, "fnWeight": fn, "fpWeight": fp}} for p, fn, fp in (
        ("standard", 1.0, 0.11), ("reward_low_FP_rate", 1.0, 0.22),
        ("reward_low_FN_rate", 2.0, 0.11))}))
    out = tmp_path / "cv.json"
    assert main(["nab", "--data", str(nab), "--default-only", "--out", str(out)]) == 0
    got = json.loads(out.read_text())["profiles"]["standard"]
    assert got["grid_size"] == 1 and [f["held_out"] for f in got["folds"]] == ["catA", "catB"]
    assert got["all_in"] > 90  # the spike is found in both files, near the window's start
    assert got["cv_pooled"] <= got["all_in"]

    smd = tmp_path / "smd"
    for k, name in enumerate(("m-1", "m-2")):
        d = smd / name
        d.mkdir(parents=True)
        rows = 0.5 + 0.02 * rng.standard_normal((500, 3))
        rows[420 + 5 * k: 440 + 5 * k, 0] += 0.4
        for part, lo, hi in (("train", 0, 300), ("test", 300, 500)):
            (d / f"{part}.csv").write_text("ts,m0,m1,m2\n" + "".join(
                f"{i},{','.join(f'{v:.4f}' for v in rows[i])}\n" for i in range(lo, hi)))
        (d / "test_label.csv").write_text("ts,label\n" + "".join(
            f"{i},{int(420 + 5 * k <= i < 440 + 5 * k)}\n" for i in range(300, 500)))
    assert main(["smd", "--data", str(smd), "--default-only"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("tuned on m-") for line in lines) == 2


def _two_onsets(rows: int = 1000) -> np.ndarray:
    """A repeating pattern with two new levels 60 rows apart."""
    x = np.array([float(i % 5) for i in range(rows)])
    x[600], x[660] = 50.0, 100.0
    return x


def test_rest_is_set_per_series_from_the_probation() -> None:
    from streams.lab.cv import nab_scores_of
    from streams.lab.scoring.nab import probation_rows, rest_rows

    assert rest_rows(1000) == probation_rows(1000) // 5 == 30 and rest_rows(10**6) == 150
    values = {"a/f.csv": _two_onsets()}
    cfg = {"warm": 250, "bins": 8, "order": 3, "margin": 0.25, "alarm": 0.75}
    per = nab_scores_of(values, "novelty")({**cfg, "rest": "probation"})["a/f.csv"]
    const = nab_scores_of(values, "novelty")({**cfg, "rest": 150})["a/f.csv"]
    assert per[600] == const[600] == 1.0
    # 60 rows after the first onset: past a rest of 30 rows, still inside one of 150
    assert per[660] == 1.0 and const[660] == 0.4


def test_the_nab_backtest_gives_the_pipeline_its_files_rest(tmp_path) -> None:
    from processors.pipeline import PipelineConfig
    from streams.lab.backtest import nab_file_scores

    path = tmp_path / "a" / "f.csv"
    path.parent.mkdir()
    stamps = [f"2020-01-{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}:00"
              for i in range(1000)]
    path.write_text("timestamp,value\n" + "".join(
        f"{t},{v}\n" for t, v in zip(stamps, _two_onsets(), strict=True)))
    scores = nab_file_scores("forewarn", str(path), "a/f.csv", PipelineConfig())
    assert scores[600] > 0.75 and scores[660] > 0.75  # rest 30 rows (150 would hold it down)


def test_the_grid_names_follow_the_pipelines_configuration() -> None:
    """s20: ``novelty`` is the default's grid (``hold``), the suppressor before s19 is named
    ``-nohold``, and ``backtest nab --cv`` picks the grid of the configuration it runs."""
    from processors.config import PipelineConfig
    from streams.cli.backtest import cv_detector
    from streams.lab.grids import GRIDS

    assert GRIDS["novelty"]["hold"] == (True,) and GRIDS["novelty-hold"] == GRIDS["novelty"]
    assert GRIDS["novelty-coarse"]["hold"] == (True,) and GRIDS["novelty-coarse"]["coarse"][0] == 4
    assert "hold" not in GRIDS["novelty-nohold"] and "hold" not in GRIDS["novelty-coarse-nohold"]
    assert cv_detector(PipelineConfig(anomaly_confirm=False)) == "novelty"
    assert cv_detector(PipelineConfig(anomaly_confirm=True, anomaly_confirm_floor=0)) == \
        "novelty-recordgap"  # s23
    assert cv_detector(PipelineConfig(anomaly_confirm=True)) == "novelty-floor"  # s24
    assert cv_detector(PipelineConfig(anomaly_hold=False)) == "novelty-nohold"
    assert cv_detector(PipelineConfig(anomaly_coarse=4)) == "novelty-coarse"
    assert cv_detector(PipelineConfig(anomaly_coarse=4, anomaly_hold=False)) == \
        "novelty-coarse-nohold"
