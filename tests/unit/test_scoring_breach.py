"""Breach-prediction scoring on small timelines worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streams.lab.scoring import breach as br
from streams.lab.scoring.breach import Breach, RiskEvent

MIN = 60_000
HORIZON_S = 900  # 15 min


def _timeline() -> tuple[list[RiskEvent], list[Breach], dict[str, tuple[int, int]]]:
    """One component observed for 120 min, one event a minute, risk 0.1 except:

    * 0.9 at minutes 50..59 (episode A; minute 50 forecasts the breach 540 s ahead),
    * 0.8 at minutes 90, 91 (episode B: nothing follows),
    * 0.7 at minute 115 (episode C: 115 + 15 > 120, so its outcome is unobserved).

    Breach of cpu.util at minute 60.
    """
    risk = dict.fromkeys(range(120), 0.1)
    risk.update(dict.fromkeys(range(50, 60), 0.9))
    risk.update({90: 0.8, 91: 0.8, 115: 0.7})
    events = [RiskEvent("web-1", m * MIN, r, 540.0 if m == 50 else None) for m, r in risk.items()]
    return events, [Breach("web-1", "cpu.util", 60 * MIN)], {"web-1": (0, 120 * MIN)}


def test_hand_timeline() -> None:
    events, breaches, spans = _timeline()
    rep = br.score_breaches(events, breaches, spans, threshold=0.5, horizon_s=HORIZON_S)
    # Episodes: A true, B false, C censored -> precision 1 / 2.
    assert (rep.episodes, rep.true_episodes, rep.censored_episodes) == (2, 1, 1)
    assert rep.precision == 0.5
    # Breach at 60: lead 1 min needs an alarm in [45, 59] (yes), 5 min in [45, 55] (yes),
    # 15 min in [45, 45] (no: alarms start at 50).
    assert rep.recall == {60: 1.0, 300: 1.0, 900: 0.0}
    assert rep.lead_times_s == (600.0,)
    # Minute 50 said "breach at 50 + 9 min = 59"; it came at 60.
    assert rep.eta_abs_errors_s == (60.0,)
    # One false episode in 120 min = 1/12 day.
    assert rep.false_alarms_per_component_day == pytest.approx(12.0)
    assert rep.f1(60) == pytest.approx(2 * 0.5 * 1.0 / 1.5)


def test_brier_and_reliability_on_the_hand_timeline() -> None:
    events, breaches, spans = _timeline()
    rep = br.score_breaches(events, breaches, spans, threshold=0.5, horizon_s=HORIZON_S)
    # Label 1 where the breach at 60 lies in (ts, ts + 15]: minutes 45..59 (15 events).
    # Unknown (left out): minutes 106..119, where ts + 15 > 120 and no breach follows.
    # Known: minutes 0..105, 106 events. Squared errors:
    #   45..49: risk 0.1, label 1 -> 5 * 0.81 = 4.05;   50..59: 0.9, 1 -> 10 * 0.01 = 0.10;
    #   90, 91: 0.8, 0 -> 2 * 0.64 = 1.28;             the other 89: 0.1, 0 -> 89 * 0.01 = 0.89.
    assert rep.brier == pytest.approx((4.05 + 0.10 + 1.28 + 0.89) / 106)
    bins = {b.lower: b for b in rep.reliability if b.count}
    assert sorted(bins) == [0.1, 0.8, 0.9]
    assert bins[0.1].count == 94
    assert bins[0.1].frequency == pytest.approx(5 / 94)
    assert (bins[0.8].count, bins[0.8].frequency, bins[0.8].mean_risk) == (2, 0.0, 0.8)
    assert (bins[0.9].count, bins[0.9].frequency) == (10, 1.0)
    assert len(rep.reliability) == 10
    assert math.isnan(rep.reliability[0].frequency)


def test_lead_window_edges() -> None:
    spans = {"c": (0, 100 * MIN)}
    breach = [Breach("c", "mem.used_pct", 60 * MIN)]
    # An alarm exactly at b - 5 min predicts at lead 5 min; one exactly at b predicts nothing.
    at_lead = [RiskEvent("c", 55 * MIN, 1.0)]
    rep = br.score_breaches(at_lead, breach, spans, threshold=0.5, horizon_s=HORIZON_S)
    assert rep.recall == {60: 1.0, 300: 1.0, 900: 0.0}
    at_breach = [RiskEvent("c", 60 * MIN, 1.0)]
    rep = br.score_breaches(at_breach, breach, spans, threshold=0.5, horizon_s=HORIZON_S)
    assert rep.recall == {60: 0.0, 300: 0.0, 900: 0.0}
    assert rep.lead_times_s == ()
    # Exactly at b - horizon still counts (closed window); one ms earlier does not.
    early = [RiskEvent("c", 45 * MIN, 1.0)]
    rep = br.score_breaches(early, breach, spans, threshold=0.5, horizon_s=HORIZON_S)
    assert rep.recall[900] == 1.0 and rep.lead_times_s == (900.0,)
    too_early = [RiskEvent("c", 45 * MIN - 1, 1.0)]
    rep = br.score_breaches(too_early, breach, spans, threshold=0.5, horizon_s=HORIZON_S)
    assert rep.recall[60] == 0.0 and rep.precision == 0.0


def test_a_non_alarm_event_splits_episodes_and_breaches_count_per_metric() -> None:
    spans = {"c": (0, 100 * MIN), "quiet": (0, 100 * MIN)}
    events = [
        RiskEvent("c", 10 * MIN, 0.9),
        RiskEvent("c", 11 * MIN, 0.2),
        RiskEvent("c", 12 * MIN, 0.9),
    ]
    breaches = [
        Breach("c", "cpu.util", 20 * MIN),
        Breach("c", "mem.used_pct", 20 * MIN),
        Breach("quiet", "cpu.util", 50 * MIN),  # no events at all: a miss
    ]
    rep = br.score_breaches(events, breaches, spans, threshold=0.5, horizon_s=HORIZON_S)
    assert (rep.episodes, rep.true_episodes) == (2, 2)
    assert rep.breaches == 3
    assert rep.recall[60] == pytest.approx(2 / 3)
    # 0 false episodes over 2 components x 100 min.
    assert rep.false_alarms_per_component_day == 0.0


def test_no_alarms_means_nan_precision_and_zero_f1() -> None:
    events, breaches, spans = _timeline()
    rep = br.score_breaches(events, breaches, spans, threshold=0.95, horizon_s=HORIZON_S)
    assert rep.episodes == 0 and math.isnan(rep.precision)
    assert rep.f1(60) == 0.0


def test_best_f1_threshold_picks_the_clean_one() -> None:
    events, breaches, spans = _timeline()
    # t = 0.9: only episode A -> P 1, R@60 1, F1 1; lower thresholds add false episode B.
    best = br.best_f1_threshold(events, breaches, spans, horizon_s=HORIZON_S, lead_s=60)
    assert best.threshold == 0.9
    assert best.f1(60) == 1.0
    assert best.recall[300] == 1.0  # the report carries every lead


def test_brier_and_reliability_helpers() -> None:
    assert br.brier_score([0.9, 0.1], [1, 0]) == pytest.approx(0.01)
    assert math.isnan(br.brier_score([], []))
    curve = br.reliability_curve([0.0, 0.05, 1.0], [0, 1, 1], n_bins=2)
    assert [(b.count, b.frequency) for b in curve] == [(2, 0.5), (1, 1.0)]


def test_invalid_inputs() -> None:
    events, breaches, spans = _timeline()
    with pytest.raises(ValueError, match="no observed span"):
        br.score_breaches(events, breaches, {}, threshold=0.5, horizon_s=HORIZON_S)
    with pytest.raises(ValueError, match="outside"):
        br.score_breaches(
            [RiskEvent("web-1", 0, 1.5)], [], spans, threshold=0.5, horizon_s=HORIZON_S
        )
    with pytest.raises(ValueError, match="leads"):
        br.score_breaches(events, breaches, spans, threshold=0.5, horizon_s=120)


def test_an_alarm_that_runs_to_the_end_is_false_not_censored() -> None:
    # Alarming from t=0 to the end of a 2-hour span with no breach: the episode began long
    # before the last horizon, so it is a false alarm (a low threshold must not look perfect).
    minute = 60_000
    events = [RiskEvent("a", t * minute, 0.9) for t in range(120)]
    report = br.score_breaches(events, [], {"a": (0, 120 * minute)}, threshold=0.5,
                               horizon_s=900)
    assert report.censored_episodes == 0
    assert report.episodes == 1 and report.precision == 0.0


def test_an_alarm_that_begins_within_the_last_horizon_is_censored() -> None:
    minute = 60_000
    events = [RiskEvent("a", t * minute, 0.9 if t >= 110 else 0.1) for t in range(120)]
    report = br.score_breaches(events, [], {"a": (0, 120 * minute)}, threshold=0.5,
                               horizon_s=900)
    assert report.censored_episodes == 1 and report.episodes == 0


def test_windows_inside_an_ongoing_fail_leave_the_brier_label_unless_a_new_breach_follows(
) -> None:
    m = 60_000
    spans = {"c": (0, 300 * m)}
    # a breach of cpu at 100 min, FAIL until 160; a breach of mem at 150 min, inside it
    breaches = [br.Breach("c", "cpu", 100 * m), br.Breach("c", "mem", 150 * m)]
    failing = {"c": [(100 * m, 160 * m), (150 * m, 155 * m)]}
    events = [br.RiskEvent("c", i * m, 0.5) for i in range(300)]
    risk0, y0 = br.event_labels(events, breaches, spans, HORIZON_S)
    risk1, y1 = br.event_labels(events, breaches, spans, HORIZON_S, failing)
    h = HORIZON_S // 60
    # left out: the FAIL's 60 windows, less those followed by the mem breach (135..149 min)
    inside_kept = sum(1 for i in range(100, 160) if 150 - h <= i < 150)
    assert y0.size - y1.size == 60 - inside_kept
    assert y1.sum() == y0.sum()  # every positive stays
    rep = br.score_breaches(events, breaches, spans, threshold=0.5, horizon_s=HORIZON_S,
                            failing=failing)
    assert rep.brier == pytest.approx(float(np.mean((risk1 - y1) ** 2)))
