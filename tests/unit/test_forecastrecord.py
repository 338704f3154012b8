"""A rule metric's record of its breach forecasts (issue #15, breach round eight; in the
snapshot since s19)."""

from __future__ import annotations

import pytest

from processors.calibration import PendingLabels
from processors.config import PipelineConfig
from processors.features import MetricFeatures
from processors.forecastrecord import CAP, ForecastRecord, mark_over, weigh
from processors.health import Rule
from processors.metricoutlook import MetricOutlook
from processors.pipeline import Pipeline
from schemas.errors import ConfigError
from tests.unit.test_actsignal import OFF

H = 900_000


def test_a_forecast_that_missed_weighs_less_and_one_that_came_true_restores_it() -> None:
    r = ForecastRecord()
    r.step(0, 0.9, False, H, False)
    assert r.open_ms == 0 and r.trust(2.0) == 1.0
    r.step(H + 60_000, 0.2, False, H, False)  # a horizon passed with no FAIL: a miss
    assert (r.n, r.k, r.open_ms) == (1.0, 0.0, -1)
    assert r.trust(2.0) == 2.0 / 3.0
    r.step(2 * H, 0.7, False, H, False)
    r.step(2 * H + 120_000, 0.7, True, H, False)  # its FAIL came: a hit
    assert (r.n, r.k) == (2.0, 1.0) and r.trust(2.0) == 0.75


def test_below_open_no_episode_and_in_fail_none_opens() -> None:
    r = ForecastRecord()
    r.step(0, 0.49, False, H, False)
    r.step(60_000, 0.99, True, H, False)  # in FAIL lately: its crossing is the same breach
    assert r.open_ms == -1 and r.n == 0.0


def test_a_miss_under_an_action_is_not_counted() -> None:
    r = ForecastRecord()
    r.step(0, 0.9, False, H, False)
    r.step(H + 60_000, 0.0, False, H, True)  # forewarn acted: maybe why no FAIL came
    assert (r.n, r.k, r.open_ms) == (0.0, 0.0, -1)


def test_counts_halve_past_the_cap() -> None:
    r = ForecastRecord()
    r.n, r.k, r.open_ms = CAP, 10.0, 0
    r.step(H + 1, 0.0, False, H, False)
    assert (r.n, r.k) == ((CAP + 1.0) / 2.0, 5.0)


def _weigh(outlooks: dict[str, MetricOutlook], breach_p: dict[str, float], ts: int,
           failed: frozenset[str] = frozenset(), at_warn: dict[str, bool] | None = None,
           pending: PendingLabels | None = None) -> tuple[float | None, float]:
    return weigh(outlooks, breach_p, at_warn or {}, set(failed), ts, H,
                 (2.0, 2.0 if at_warn is not None else 0.0), pending or PendingLabels(H))


def test_weigh_scales_each_metric_and_leaves_out_those_in_fail() -> None:
    outlooks = {"cpu": MetricOutlook("trend"), "mem": MetricOutlook("trend")}
    assert _weigh(outlooks, {"cpu": 0.8, "mem": 0.6}, 0) == (0.8, 1.0)  # no record: in full
    p, _ = _weigh(outlooks, {"cpu": 0.8, "mem": 0.6}, H + 60_000)
    rec = outlooks["cpu"].record
    assert rec is not None and rec.forecast.n == 1.0
    assert p == max(0.8 * 2 / 3, 0.6 * 2 / 3)
    p, _ = _weigh(outlooks, {"cpu": 0.8, "mem": 0.6}, H + 120_000, frozenset({"cpu"}))
    assert p == 0.6 * 2 / 3


def test_a_warn_plateau_that_never_failed_weighs_less() -> None:
    outlooks = {"cpu": MetricOutlook("trend"), "mem": MetricOutlook("trend")}
    warn = {"cpu": True, "mem": False}
    assert _weigh(outlooks, {}, 0, at_warn=warn) == (0.0, 1.0)  # a spell opens
    assert _weigh(outlooks, {}, H + 60_000, at_warn=warn)[1] == 2 / 3  # a spell missed
    # a metric at WARN just after its FAIL has no record to read: in full
    assert _weigh(outlooks, {}, H + 120_000, frozenset({"cpu"}), warn)[1] == 1.0
    assert _weigh(outlooks, {}, H + 180_000, at_warn={"cpu": False, "mem": False})[1] == 1.0


def test_acted_interval_reaches_the_record_through_pending_labels() -> None:
    outlooks = {"cpu": MetricOutlook("trend")}
    pending = PendingLabels(H)
    pending.act(30_000, None)  # an open lease from just after the episode opened
    _weigh(outlooks, {"cpu": 0.9}, 0, pending=pending)
    _weigh(outlooks, {"cpu": 0.0}, H + 60_000, pending=pending)
    rec = outlooks["cpu"].record
    assert rec is not None and rec.forecast.n == 0.0 and rec.forecast.open_ms == -1


def _ramp(p: Pipeline) -> None:
    for i in range(200):
        p.ingest({"component": "web-1", "host": "h", "ts": i * 10_000, "tags": {},
                  "metrics": {"cpu.util": 0.2 + 0.003 * i}})


def test_off_no_record_is_made() -> None:
    config = PipelineConfig(**OFF)  # s21: forecast_trust 2, warn_trust 2, hover 2 by default
    p = Pipeline(config)
    _ramp(p)
    assert all(o.record is None for o in p._states["web-1"].outlooks.values())


def test_warn_trust_is_the_default_and_keeps_records() -> None:
    assert PipelineConfig().warn_trust == 2.0
    p = Pipeline(PipelineConfig())
    _ramp(p)
    assert any(o.record is not None for o in p._states["web-1"].outlooks.values())


def _plateau(p: Pipeline, i0: int, i1: int) -> list[dict[str, object]]:
    """A ramp that stops at a WARN plateau under its FAIL: WARN spells that never FAIL."""
    risk: list[dict[str, object]] = []
    for i in range(i0, i1):
        v = 0.2 + 0.003 * i if i < 200 else 0.8
        risk += p.ingest({"component": "web-1", "host": "h", "ts": i * 10_000, "tags": {},
                          "metrics": {"cpu.util": v}}).risk
    return risk


def _counts(p: Pipeline) -> list[tuple[float, float, int]]:
    recs = [o.record for o in p._states["web-1"].outlooks.values() if o.record is not None]
    return [(r.n, r.k, r.open_ms) for rec in recs for r in (rec.forecast, rec.warn)]


def test_records_are_in_the_snapshot_a_restored_component_trusts_on() -> None:
    config = PipelineConfig(forecast_trust=2.0, warn_trust=2.0, hover=2)
    p, whole = Pipeline(config), Pipeline(config)
    _plateau(p, 0, 400)
    rec = p._states["web-1"].outlooks["cpu.util"].record
    assert rec is not None and (rec.warn.n, rec.warn.k) == (2.0, 0.0)  # two spells, no FAIL
    assert rec.warn.trust(2.0) == 0.5 and rec.forecast.n == 1.0  # and the ramp's forecast
    blob = p.snapshot("web-1")
    twin = Pipeline(config)
    twin.restore("web-1", blob)
    assert _counts(twin) == _counts(p) and twin.snapshot("web-1") == blob
    # the restored component goes on as one that never stopped, record and risk alike
    first, after = _plateau(whole, 0, 400), _plateau(twin, 400, 800)
    assert after == _plateau(whole, 400, 800) and len(first) > 0
    assert _counts(twin) == _counts(whole) and _counts(twin)[1][0] > 2.0


def test_a_snapshot_without_records_restores_and_records_start_then() -> None:
    p = Pipeline(PipelineConfig(**OFF))  # the options off: None records
    _plateau(p, 0, 200)
    blob = p.snapshot("web-1")
    on = Pipeline(PipelineConfig(forecast_trust=2.0, hover=2))
    on.restore("web-1", blob)  # a snapshot without records: none yet, then made
    assert all(o.record is None for o in on._states["web-1"].outlooks.values())
    _plateau(on, 200, 300)
    assert on._states["web-1"].outlooks["cpu.util"].record is not None


def test_with_the_breach_record_off_p_new_is_left_alone() -> None:
    outlooks = {"cpu": MetricOutlook("trend")}
    assert weigh(outlooks, {"cpu": 0.9}, {"cpu": True}, set(), 0, H, (0.0, 2.0), None) == (
        None, 1.0)


def _f(lo: float, hi: float) -> MetricFeatures:
    return MetricFeatures((lo + hi) / 2, hi, lo, hi, hi, 0.0, 0.0, 0.0, 0.0, 6, 0)


def test_a_value_over_its_fail_threshold_marks_the_metric_its_rules_fail_or_not() -> None:
    cpu, free = MetricOutlook("trend"), MetricOutlook("trend")
    up = (Rule("cpu", fail=0.95, warn=0.8, for_s=30),)
    down = (Rule("free", fail=0.05, direction="below"),)
    mark_over([("cpu", _f(0.5, 0.94), cpu, up), ("free", _f(0.1, 0.2), free, down)], 60_000)
    assert cpu.record is None and free.record is None  # nothing over: no record made
    # one sample at 0.95, too short for the rule's 30 s: over the limit, as the scorer sees it
    mark_over([("cpu", _f(0.5, 0.95), cpu, up), ("free", _f(0.05, 0.2), free, down)], 120_000)
    assert cpu.record is not None and cpu.record.over_ms == 120_000
    assert free.record is not None and free.record.over_ms == 120_000
    mark_over([("cpu", _f(0.5, 0.9), cpu, up), ("free", _f(0.06, 0.2), free, down)], 180_000)
    assert (cpu.record.over_ms, free.record.over_ms) == (120_000, 120_000)


@pytest.mark.parametrize(("hover", "over_metric", "counted"), [
    (0, "cpu", 1.0), (1, "cpu", 0.0), (1, "lat", 1.0), (2, "lat", 0.0), (2, None, 1.0)])
def test_hover_a_miss_while_the_metric_or_its_component_went_over_is_no_opinion(
        hover: int, over_metric: str | None, counted: float) -> None:
    rules = {"cpu": (Rule("cpu", fail=0.95),), "lat": (Rule("lat", fail=1000.0),)}
    o = {"cpu": MetricOutlook("trend"), "lat": MetricOutlook("trend")}
    weigh(o, {"cpu": 0.9, "lat": 0.0}, {}, set(), 0, H, (2.0, 0.0), None, hover)
    # a minute later one metric touches its limit (too briefly for its rule's FAIL)
    hi = {"cpu": _f(0.5, 0.96 if over_metric == "cpu" else 0.5),
          "lat": _f(50.0, 1200.0 if over_metric == "lat" else 60.0)}
    mark_over([(m, hi[m], o[m], rules[m]) for m in ("cpu", "lat")], 60_000)
    # a horizon on, no FAIL came: a miss, unless the record has no opinion of it
    weigh(o, {"cpu": 0.1, "lat": 0.0}, {}, set(), H + 60_000, H, (2.0, 0.0), None, hover)
    rec = o["cpu"].record
    assert rec is not None and (rec.forecast.n, rec.forecast.k) == (counted, 0.0)
    assert rec.forecast.open_ms == -1


def test_hover_on_a_restored_component_whose_outlooks_have_no_record_yet() -> None:
    config = PipelineConfig(forecast_trust=2.0, hover=2)
    p = Pipeline(PipelineConfig(**OFF))  # a snapshot without records (options off)
    _ramp(p)
    twin = Pipeline(config)
    twin.restore("web-1", p.snapshot("web-1"))
    assert getattr(twin._states["web-1"].outlooks["cpu.util"], "record", None) is None
    for ts in (2_000_000, 2_100_000):  # closes a window under the limit: nothing marked
        twin.ingest({"component": "web-1", "host": "h", "ts": ts, "tags": {},
                     "metrics": {"cpu.util": 0.5}})
    rec = getattr(twin._states["web-1"].outlooks["cpu.util"], "record", None)
    assert rec is None or rec.over_ms == -1


def test_hover_is_on_by_default_and_checked() -> None:
    assert PipelineConfig().hover == 2  # s21: with the alarm's own learner
    with pytest.raises(ConfigError):
        PipelineConfig(hover=3)


def test_an_open_episode_resolves_while_its_metric_forecasts_nothing() -> None:
    # s19: a forecast that stops (a ramp levelling off under its FAIL) leaves the metric out
    # of the window's breach probabilities; its open episode still resolves a horizon on
    o = {"cpu": MetricOutlook("trend")}
    weigh(o, {"cpu": 0.9}, {}, set(), 0, H, (2.0, 0.0), None, 2)
    weigh(o, {}, {}, set(), H + 60_000, H, (2.0, 0.0), None, 2)
    rec = o["cpu"].record
    assert rec is not None and (rec.forecast.n, rec.forecast.k, rec.forecast.open_ms) == (
        1.0, 0.0, -1)
    weigh(o, {}, {}, {"cpu"}, 3 * H, H, (2.0, 0.0), None, 2)  # a FAIL long after: no hit
    assert (rec.forecast.n, rec.forecast.k) == (1.0, 0.0)
