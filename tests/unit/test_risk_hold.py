"""The emitted risk holds the previous window's, decayed by the share of its horizon that has
passed (issue #15, s13: ``processors.calibration.held``, ``PipelineConfig.risk_hold``)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from processors.calibration import held
from processors.pipeline import Pipeline, PipelineConfig
from processors.risk import Assessment
from tests.unit.test_pipeline import flat, run


class Scripted:
    """A RiskModel whose score follows a script: high on the windows in ``high``, else low."""

    def __init__(self, high: set[int], hi: float = 0.9, lo: float = 0.02) -> None:
        self.high, self.hi, self.lo, self.n = high, hi, lo, 0

    def score_one(self, base: Mapping[str, float], states: Mapping[str, int]) -> float:
        return self.assess(base, states).risk

    def learn_one(self, base: Mapping[str, float], states: Mapping[str, int], y: bool) -> None:
        return None

    def assess(self, base: Mapping[str, float], states: Mapping[str, int]) -> Assessment:
        self.n += 1
        return Assessment(self.hi if self.n in self.high else self.lo, {}, {})


def test_held_decays_by_the_share_of_the_horizon_that_passed() -> None:
    assert held(0.1, 0.6, 60, 900) == pytest.approx(0.56)
    assert held(0.7, 0.6, 60, 900) == 0.7  # a fresh, higher score wins
    assert held(0.1, 0.6, 450, 900) == pytest.approx(0.3)  # a gap: decayed by its length
    assert held(0.1, 0.6, 900, 900) == 0.1  # a whole horizon later nothing is held
    assert held(0.1, 0.6, 5000, 900) == 0.1


def emitted(hold: bool, high: set[int]) -> list[float]:
    p = Pipeline(PipelineConfig(risk_hold=hold), risk_model=Scripted(high))
    return [r["risk"] for r in run(p, flat()).risk]


def test_a_flicker_stays_one_alarm_and_fades_over_a_third_of_a_horizon() -> None:
    high = {10, 12, 14}  # the model's score flickers across the alarm point
    raw, out = emitted(False, high), emitted(True, high)
    assert [i + 1 for i, r in enumerate(raw) if r >= 1 / 3] == sorted(high)
    alarm = [i + 1 for i, r in enumerate(out) if r >= 1 / 3]
    assert alarm == list(range(10, alarm[-1] + 1))  # one run, no gap
    assert alarm[-1] == 14 + 14  # 0.9 * (14/15)^k >= 1/3 for k <= 14
    for prev, cur in zip(out, out[1:], strict=False):
        assert cur >= prev * (1 - 60 / 900) - 1e-12  # never falls faster than the horizon
    for n in range(15, len(out) + 1):  # window n (1-based) after the last high score
        assert out[n - 1] == pytest.approx(max(0.02, 0.9 * (14 / 15) ** (n - 14)))


def test_off_emits_the_models_own_score() -> None:
    assert set(emitted(False, {5})) == {0.9, 0.02}
