"""The learnt reach of a parent's trouble (``context_reach``, issue #15, s14)."""

from __future__ import annotations

from typing import Any

import numpy as np

from processors.calibration import RiskLearner
from processors.config import PipelineConfig
from processors.pipeline import Pipeline
from tests.unit.test_pipeline import Output, flat, rel_s, run, sample


def db_failing_every(period_min: int, hours: int) -> list[dict[str, Any]]:
    """db-1's cpu at FAIL level for three minutes every ``period_min`` minutes."""
    rng = np.random.default_rng(7)
    return [
        sample("db-1", i * 10, {
            "cpu.util": (0.99 if (i // 6) % period_min in (10, 11, 12) else 0.3)
            + 0.01 * rng.standard_normal(),
            "mem.used_pct": 50 + rng.standard_normal(),
        })
        for i in range(hours * 360)
    ]


def linked(reach: bool) -> tuple[Output, Pipeline]:
    samples = db_failing_every(40, 6) + flat(6 * 60, component="app-1")
    p = Pipeline(PipelineConfig(dependencies=(("app-1", "db-1"),), context_reach=reach))
    return run(p, sorted(samples, key=lambda s: (s["ts"], s["component"]))), p


def test_a_parent_whose_trouble_never_reaches_the_child_stops_raising_its_risk() -> None:
    (plain, _), (learnt, p) = linked(False), linked(True)

    def last_episode(out: Output) -> float:  # the app's risk through the db's last FAIL
        return max(r["risk"] for r in out.risk
                   if r["component"] == "app-1" and 330 * 60 <= rel_s(r) <= 340 * 60)

    assert p._states["app-1"].learner.reach() < 0.5  # eight FAILs of the db, none followed
    assert last_episode(learnt) < last_episode(plain)
    first = [(a["risk"], b["risk"]) for a, b in zip(plain.risk, learnt.risk, strict=True)
             if a["component"] == "app-1" and rel_s(a) <= 15 * 60]
    assert first and all(a == b for a, b in first)  # before anything is learnt: the same


def test_an_edge_that_propagates_keeps_its_full_weight() -> None:
    r = RiskLearner(labels=1000, positives=20)  # the child's own onset rate: ~2 %
    for i in range(300):  # a quarter of the windows under the parent's trouble precede one
        r.learn_reach(1.0, i % 4 == 0)
    assert r.reach() == 1.0
    for _ in range(300):  # WARN-free, calm parent: nothing is learnt from those windows
        r.learn_reach(0.0, False)
    assert r.reach() == 1.0
