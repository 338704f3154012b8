"""Issue #15, s21: a partial onset confirmed before it alarms
(:class:`processors.noveltyconfirm.ConfirmingSuppressor`, the lab's ``novelty-confirm`` grid;
``docs/modelling.md``, "NAB round ten")."""

from __future__ import annotations

import numpy as np
import pytest

from processors.noveltyconfirm import ConfirmingSuppressor
from processors.univariate import Suppressor

HEAD = [1.0] + [0.0] * 19  # an onset, then 2 rests (of 10) without one: within quiet 10


def steps(sup: Suppressor, raws: list[float]) -> list[float]:
    out = []
    for r in raws:
        ahead = sup.score_one(r)
        got = sup.step(r)
        assert got == ahead  # score_one changes nothing and says what step will
        out.append(got)
    return out


def test_a_lone_partial_onset_never_alarms() -> None:
    one_off = HEAD + [0.75, 0.5, 0.25] + [0.0] * 12  # what a lone new transition implies
    got = steps(ConfirmingSuppressor(rest=10, confirm=10), one_off)
    plain = steps(Suppressor(rest=10, hold=True), one_off)
    assert plain[20] == 0.75 and got[20] == 0.0
    assert got[:20] == plain[:20] and got[21:] == plain[21:]  # the rest is the hold's


@pytest.mark.parametrize(("d", "raw"), [(1, 0.75), (2, 0.5), (3, 0.25), (9, 0.25)])
def test_novelty_the_onset_does_not_imply_confirms_it(d: int, raw: float) -> None:
    implied = [max(0.0, (3 - k) / 4) for k in range(1, d)]
    got = steps(ConfirmingSuppressor(rest=10, confirm=10), HEAD + [0.75, *implied, raw])
    assert got[20] == 0.0 and got[20 + d] == pytest.approx(0.75)


def test_past_the_horizon_the_onset_is_dropped() -> None:
    got = steps(ConfirmingSuppressor(rest=10, confirm=10), HEAD + [0.75] + [0.0] * 10 + [0.25])
    assert max(got[20:]) < 0.75


def test_new_levels_and_quiet_series_alarm_at_once() -> None:
    assert steps(ConfirmingSuppressor(rest=10, confirm=10), HEAD + [1.0])[20] == 1.0
    assert steps(ConfirmingSuppressor(rest=10, confirm=10), [0.0, 0.75])[1] == 0.75  # none before
    raws = [1.0] + [0.0] * 30 + [0.75]  # 3 rests after the previous onset
    assert steps(ConfirmingSuppressor(rest=10, confirm=10, quiet=3.0), raws)[31] == 0.75
    assert steps(ConfirmingSuppressor(rest=10, confirm=10, quiet=5.0), raws)[31] == 0.0


def test_a_confirmed_onset_scores_what_it_would_have_scored() -> None:
    # the partial onset 5 values into the rest scores 0.75 * 0.5 at once without confirmation
    raws = [1.0] + [0.0] * 4 + [0.75, 0.5] + [0.0] * 3 + [0.75]
    plain = steps(Suppressor(rest=10, hold=True), raws)
    conf = steps(ConfirmingSuppressor(rest=10, confirm=10), raws)
    assert plain[5] == pytest.approx(0.375) and conf[5] == 0.0
    assert conf[10] == pytest.approx(max(plain[10], 0.375))


def test_the_lab_grid_lets_the_folds_choose_confirm() -> None:
    from streams.lab.cv import nab_scores_of
    from streams.lab.grids import GRIDS, expand

    g = GRIDS["novelty-confirm"]
    assert g["confirm"][0] == 0 and g["hold"] == (True,) and g["quiet"] == (10.0, 5.0, 2.0)
    rng = np.random.default_rng(3)
    # a cycle through five levels, now and then a jump to a known level by a new transition
    x = np.arange(3000) % 5.0
    jumps = rng.random(3000) < 0.01
    x[jumps] = rng.integers(0, 5, int(jumps.sum()))
    scores_of = nab_scores_of({"a/x.csv": x}, "novelty-confirm")
    base = expand({k: v[:1] for k, v in g.items()})[0]
    off = scores_of(base)["a/x.csv"]
    on = scores_of({**base, "confirm": "probation"})["a/x.csv"]
    held = scores_of(expand(GRIDS["novelty"])[0])["a/x.csv"]
    assert np.array_equal(off, held)  # confirm off: the default's grid, exactly
    assert off.shape == on.shape and 0 < (on >= 0.5).sum() < (off >= 0.5).sum()


def test_record_quiet_is_the_longest_gap_so_far() -> None:
    # s23: no confirmation past the longest gap between two earlier raw onsets (30 values here)
    head = [1.0] + [0.0] * 29 + [1.0]
    sup = ConfirmingSuppressor(rest=10, confirm=10, record=True)
    assert steps(sup, head + [0.0] * 28 + [0.75])[59] == 0.0  # 29 after: within the record
    sup = ConfirmingSuppressor(rest=10, confirm=10, record=True)
    assert steps(sup, head + [0.0] * 29 + [0.75])[60] == 0.75  # 30 after: as long as it
    assert sup.gap_max == 30
    sup = ConfirmingSuppressor(rest=10, confirm=10, record=True)
    one_before = steps(sup, [0.0] * 5 + [1.0] + [0.0] * 3 + [0.75])  # no gap yet: at once
    assert one_before[9] == pytest.approx(0.75 * 0.4)


def test_the_recordgap_grid_holds_out_confirm_only() -> None:
    from streams.lab.cv import nab_scores_of
    from streams.lab.grids import GRIDS, expand

    g = GRIDS["novelty-recordgap"]
    assert g["confirm"] == (0, "probation") and g["quiet"] == ("record",)
    x = np.arange(3000) % 5.0
    x[::97] = 2.0  # known levels by new transitions
    scores_of = nab_scores_of({"a/x.csv": x}, "novelty-recordgap")
    base = expand(g)[0]
    assert np.array_equal(scores_of(base)["a/x.csv"],
                          scores_of(expand(GRIDS["novelty"])[0])["a/x.csv"])
    on = scores_of({**base, "confirm": "probation"})["a/x.csv"]
    assert on.shape == (3000,)


@pytest.mark.parametrize(("floor", "confirmed"), [(0, True), (1, False)])
def test_floor_one_new_context_no_longer_confirms(floor: int, confirmed: bool) -> None:
    # s24: a raw 0.25 (one context of four new) three values after the onset
    raws = HEAD + [0.75, 0.5, 0.25, 0.25]
    got = steps(ConfirmingSuppressor(rest=10, confirm=10, floor=floor), raws)
    assert got[20] == 0.0 and (got[23] == pytest.approx(0.75)) is confirmed
    sup = ConfirmingSuppressor(rest=10, confirm=10, floor=floor)
    two = steps(sup, HEAD + [0.75, 0.5, 0.25, 0.5])  # two contexts new confirm either way
    assert two[23] == pytest.approx(0.75) and sup.floor == floor


def test_the_floor_grid_holds_out_floor_under_confirm_only() -> None:
    from processors.config import PipelineConfig
    from processors.noveltyconfirm import ConfirmingSuppressor as Confirming
    from streams.lab.grids import GRIDS, expand

    configs = expand(GRIDS["novelty-floor"])
    assert len(configs) == 288 and not any(c["floor"] and not c["confirm"] for c in configs)
    assert [(c["confirm"], c["floor"]) for c in configs[:3]] == [
        (0, 0), ("probation", 0), ("probation", 1)]
    from processors.anomaly import ComponentNovelty, detector_for

    det = detector_for(PipelineConfig(), "c")
    assert isinstance(det, ComponentNovelty) and isinstance(det.suppressor, Confirming)
    assert det.suppressor.floor == 1
    assert "floor1" in str(PipelineConfig().state_key()) and "floor" not in str(
        PipelineConfig(anomaly_confirm_floor=0).state_key())
