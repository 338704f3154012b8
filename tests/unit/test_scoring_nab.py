"""NAB scoring: the README's sanity checks, a hand-computed case, and the sweep against brute
force. Also the NAB file helpers (``streams.lab.nabdata``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.lab import nabdata
from streams.lab.scoring import nab

STEP_MS = 60_000
BASE_MS = 1_400_000_000_000
PROFILES = list(nab.PROFILES.values())


def _ts(n: int) -> np.ndarray:
    return BASE_MS + np.arange(n, dtype=np.int64) * STEP_MS


def _win(left: int, right: int) -> tuple[int, int]:
    """A window covering rows ``left..right`` of a :func:`_ts` file."""
    return (BASE_MS + left * STEP_MS, BASE_MS + right * STEP_MS)


# Three files: two windows, one window, none.
CORPUS_ROWS = {"a/two.csv": 400, "a/one.csv": 300, "b/none.csv": 200}
CORPUS_WINDOWS = {
    "a/two.csv": [_win(100, 139), _win(250, 289)],
    "a/one.csv": [_win(200, 229)],
    "b/none.csv": [],
}


def _perfect() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    files = {}
    for name, n in CORPUS_ROWS.items():
        scores = np.zeros(n)
        for left, _ in nab.window_rows(_ts(n), CORPUS_WINDOWS[name]):
            scores[left] = 1.0
        files[name] = (_ts(n), scores)
    return files


def test_scaled_sigmoid() -> None:
    assert nab.scaled_sigmoid(0.0) == 0.0
    assert float(nab.scaled_sigmoid(-1.0)) == pytest.approx(0.98661, abs=1e-5)
    assert float(nab.scaled_sigmoid(1.0)) == pytest.approx(-0.98661, abs=1e-5)
    # README: -1 for y > 3; y = 3 itself still follows the curve.
    assert float(nab.scaled_sigmoid(3.0)) == pytest.approx(2 / (1 + math.exp(15)) - 1)
    assert float(nab.scaled_sigmoid(3.0001)) == -1.0
    assert float(nab.scaled_sigmoid(math.inf)) == -1.0


@pytest.mark.parametrize(
    ("rows", "probation"), [(6, 0), (20, 3), (100, 15), (4033, 604), (5000, 750), (22695, 750)]
)
def test_probation_rows(rows: int, probation: int) -> None:
    assert nab.probation_rows(rows) == probation


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_perfect_detector_scores_100(profile: nab.Profile) -> None:
    res = nab.score_corpus(_perfect(), CORPUS_WINDOWS, profile)
    assert res.normalised == 100.0
    assert res.raw == 3 * profile.a_tp
    assert (res.tp, res.fp, res.fn, res.windows) == (3, 0, 0, 3)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
def test_constant_detector_scores_0(profile: nab.Profile, value: float) -> None:
    files = {name: (_ts(n), np.full(n, value)) for name, n in CORPUS_ROWS.items()}
    res = nab.score_corpus(files, CORPUS_WINDOWS, profile)
    # Detecting every row costs far more than it gains, so the best is to detect nothing.
    assert res.normalised == 0.0
    assert res.threshold == math.inf
    assert res.raw == -3 * profile.a_fn


def test_hand_computed_case() -> None:
    # 20 rows: probation = floor(0.15 * 20) = 3 rows (0, 1, 2). One window, rows 8..11, W = 4.
    # maxTP = σ(-1) = 2 / (1 + e^-5) - 1 = 0.9866142981514305
    # row 1 scores 0.9: in probation, ignored.
    # row 5 scores 0.8: outside, before any window ended: -A_FP = -0.11.
    # row 10 scores 0.7: inside, y = -(11 - 10 + 1) / 4 = -0.5;
    #     σ(-0.5) = 2 / (1 + e^-2.5) - 1 = 0.8482836399575131; / maxTP = 0.8597925669097837.
    # row 15 scores 0.6: after the window, y = |15 - 11| / (4 - 1) = 4/3;
    #     σ(4/3) = 2 / (1 + e^(20/3)) - 1 = -0.9974579674738373; * 0.11 = -0.1097203764221221.
    # Totals by threshold: inf -> -1 (missed window); 0.9 -> -1; 0.8 -> -1 - 0.11 = -1.11;
    #     0.7 -> 0.8597925669097837 - 0.11 = 0.7497925669097837 (best);
    #     0.6 -> 0.7497925669097837 - 0.1097203764221221 = 0.6400721904876616.
    # Normalised: 100 * (0.74979... + 1) / (1 + 1) = 87.4896283454892.
    scores = np.zeros(20)
    scores[[1, 5, 10, 15]] = [0.9, 0.8, 0.7, 0.6]
    res = nab.score_corpus({"f.csv": (_ts(20), scores)}, {"f.csv": [_win(8, 11)]})
    assert res.threshold == 0.7
    assert res.raw == pytest.approx(0.7497925669097837, abs=1e-12)
    assert res.normalised == pytest.approx(87.4896283454892, abs=1e-9)
    assert (res.tp, res.fp, res.fn) == (1, 1, 0)
    at_06 = nab.score_corpus({"f.csv": (_ts(20), scores)}, {"f.csv": [_win(8, 11)]}, threshold=0.6)
    assert at_06.raw == pytest.approx(0.6400721904876616, abs=1e-12)
    assert (at_06.tp, at_06.fp, at_06.fn) == (1, 2, 0)


def test_sweep_values_after_window() -> None:
    # Row 12, right after the window 8..11: y = 1 / 3, σ = -0.6822617902381697, * 0.11.
    sweep = nab.sweep_values(20, [(8, 11)], nab.STANDARD)
    assert sweep[12] == pytest.approx(-0.07504879692619866, abs=1e-12)
    assert sweep[8] == 1.0
    assert sweep[0] == -0.11


def test_probation_rows_are_ignored() -> None:
    n = 200  # probation: rows 0..29
    windows = {"f.csv": [_win(150, 153)]}
    spike_in_probation = np.zeros(n)
    spike_in_probation[:30] = 1.0
    res = nab.score_corpus({"f.csv": (_ts(n), spike_in_probation)}, windows)
    assert res.normalised == 0.0
    # At a threshold that detects the probation rows, nothing changes either.
    res = nab.score_corpus({"f.csv": (_ts(n), spike_in_probation)}, windows, threshold=1.0)
    assert (res.raw, res.fp) == (-1.0, 0)


def test_window_overlapping_probation_scores_only_after_it() -> None:
    # Window rows 1..6 (W = 6), probation rows 0..2: a detection at row 2 does not count,
    # one at row 3 is worth σ(-(6 - 3 + 1) / 6) / maxTP.
    scores = np.zeros(20)
    scores[2] = 1.0
    scores[3] = 0.5
    res = nab.score_corpus({"f.csv": (_ts(20), scores)}, {"f.csv": [_win(1, 6)]})
    expected = float(nab.scaled_sigmoid(-4 / 6)) / float(nab.scaled_sigmoid(-1.0))
    assert res.threshold == 0.5
    assert res.raw == pytest.approx(expected, abs=1e-12)


def test_window_wholly_in_probation_is_an_unavoidable_miss() -> None:
    # Documented choice: it still counts in S_perfect / S_null, and as -A_FN.
    scores = np.zeros(20)
    scores[0] = 1.0
    res = nab.score_corpus({"f.csv": (_ts(20), scores)}, {"f.csv": [_win(0, 1)]})
    assert (res.windows, res.fn, res.raw, res.normalised) == (1, 1, -1.0, 0.0)


def test_false_positives_are_not_deduplicated() -> None:
    scores = np.zeros(40)
    scores[[10, 11, 12]] = 1.0  # three adjacent FPs before any window: 3 * -0.11
    res = nab.score_corpus({"f.csv": (_ts(40), scores)}, {"f.csv": [_win(30, 33)]}, threshold=1.0)
    assert res.fp == 3
    assert res.raw == pytest.approx(-1.0 - 3 * 0.11, abs=1e-12)


def test_windows_map_to_rows_by_time() -> None:
    ts = _ts(10)
    # Start between rows 2 and 3 -> L = 3; end between rows 6 and 7 -> R = 6.
    assert nab.window_rows(ts, [(int(ts[2]) + 1, int(ts[7]) - 1)]) == [(3, 6)]
    # Duplicated and stepped-back timestamps (as in some NAB files): row order still decides.
    messy = np.array([0, 10, 10, 20, 15, 30, 40], dtype=np.int64)
    assert nab.window_rows(messy, [(10, 20)]) == [(1, 4)]
    with pytest.raises(ValueError, match="holds no row"):
        nab.window_rows(ts, [(int(ts[2]) + 1, int(ts[2]) + 2)])
    with pytest.raises(ValueError, match="overlap"):
        nab.window_rows(ts, [(int(ts[1]), int(ts[4])), (int(ts[4]), int(ts[6]))])


def test_every_file_needs_a_windows_entry() -> None:
    with pytest.raises(ValueError, match="no windows entry"):
        nab.score_corpus({"f.csv": (_ts(5), np.zeros(5))}, {})


def test_profiles_from_json() -> None:
    obj = {
        name: {"CostMatrix": {"tpWeight": p.a_tp, "fnWeight": p.a_fn, "fpWeight": p.a_fp}}
        for name, p in nab.PROFILES.items()
    }
    assert nab.profiles_from_json(obj) == dict(nab.PROFILES)


def test_score_all_profiles_keys() -> None:
    res = nab.score_all_profiles(_perfect(), CORPUS_WINDOWS)
    assert set(res) == set(nab.PROFILES)
    assert all(r.normalised == 100.0 for r in res.values())


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    levels=st.integers(2, 12),
    profile=st.sampled_from(PROFILES),
)
def test_sweep_finds_the_brute_force_best(seed: int, levels: int, profile: nab.Profile) -> None:
    rng = np.random.default_rng(seed)
    files = {}
    windows: dict[str, list[tuple[int, int]]] = {}
    for k in range(3):
        n = int(rng.integers(30, 80))
        # Few distinct levels, so ties across rows and files are common.
        files[f"c/f{k}.csv"] = (_ts(n), rng.integers(0, levels, n) / levels)
        cuts = sorted(rng.choice(np.arange(5, n), size=4, replace=False).tolist())
        windows[f"c/f{k}.csv"] = [_win(cuts[0], cuts[1]), _win(cuts[2] + 1, cuts[3])][
            : int(rng.integers(0, 3))
        ]
    best = nab.score_corpus(files, windows, profile)
    candidates = sorted({float(v) for _, s in files.values() for v in s} | {math.inf})
    brute = [nab.score_corpus(files, windows, profile, threshold=t).raw for t in candidates]
    assert best.raw == pytest.approx(max(brute), abs=1e-9)
    # Ties go to the highest threshold.
    top = max(t for t, r in zip(candidates, brute, strict=True) if r >= max(brute) - 1e-9)
    assert best.threshold == top


# --- streams.lab.nabdata ---------------------------------------------------------------------


def test_parse_and_format_timestamps() -> None:
    assert nabdata.parse_ts_ms("1970-01-01 00:00:01") == 1000
    assert nabdata.parse_ts_ms("2014-04-10 07:15:00.000000") == 1_397_114_100_000
    assert nabdata.format_ts_ms(1_397_114_100_000) == "2014-04-10 07:15:00"


def test_write_results_then_read_back(tmp_path: Path) -> None:
    stamps = ["2014-04-10 07:15:00", "2014-04-10 07:20:00"]
    path = nabdata.write_results(tmp_path, "realX/f.csv", stamps, [1.5, 2.0], [0.0, 0.25])
    assert path == tmp_path / "results" / "realX" / "f.csv"
    lines = path.read_text().splitlines()
    assert lines == [
        "timestamp,value,anomaly_score",
        "2014-04-10 07:15:00,1.5,0.0",
        "2014-04-10 07:20:00,2.0,0.25",
    ]
    # int ms timestamps are written in NAB's format too.
    ms = [nabdata.parse_ts_ms(s) for s in stamps]
    again = nabdata.write_results(tmp_path, "realX/g.csv", ms, [1.5, 2.0], [0.0, 0.25])
    assert again.read_text().splitlines()[1:] == lines[1:]


def test_load_a_small_corpus(tmp_path: Path) -> None:
    (tmp_path / "data" / "cat").mkdir(parents=True)
    (tmp_path / "data" / "cat" / "f.csv").write_text(
        "timestamp,value\n2014-04-10 07:15:00,1\n2014-04-10 07:20:00,2.5\n"
    )
    (tmp_path / "combined_windows.json").write_text(
        '{"cat/f.csv": [["2014-04-10 07:20:00.000000", "2014-04-10 07:20:00.000000"]]}'
    )
    corpus = nabdata.load_corpus(tmp_path)
    series = corpus["cat/f.csv"]
    assert series.timestamps == ("2014-04-10 07:15:00", "2014-04-10 07:20:00")
    assert series.values.tolist() == [1.0, 2.5]
    windows = nabdata.load_windows(tmp_path)
    assert nab.window_rows(series.ts_ms, windows["cat/f.csv"]) == [(1, 1)]


NAB_DIR = Path("/work/shared/data/nab")


@pytest.mark.skipif(not (NAB_DIR / "data").is_dir(), reason="shared NAB subset not present")
def test_shared_nab_subset_perfect_and_null() -> None:
    corpus = nabdata.load_corpus(NAB_DIR)
    windows = nabdata.load_windows(NAB_DIR)
    perfect = {}
    null = {}
    for name, s in corpus.items():
        scores = np.zeros(s.values.size)
        for left, _ in nab.window_rows(s.ts_ms, windows[name]):
            scores[left] = 1.0
        perfect[name] = (s.ts_ms, scores)
        null[name] = (s.ts_ms, np.zeros(s.values.size))
    profiles = nabdata.load_profiles(NAB_DIR)
    for res in nab.score_all_profiles(perfect, windows, profiles).values():
        assert (res.normalised, res.windows) == (100.0, 53)
    for res in nab.score_all_profiles(null, windows, profiles).values():
        assert res.normalised == 0.0
