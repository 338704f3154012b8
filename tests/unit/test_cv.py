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
