"""Constant parameters held once per configuration (#14 s17, processors.sharedparams)."""

from __future__ import annotations

import math
import pickle

from processors import stateformat
from processors.forecast import SeasonalTrendForecaster, TrendForecaster
from processors.metricoutlook import MetricOutlook, Troughs
from processors.pagehinkley import PageHinkley
from processors.season import SeasonalHistory
from processors.sharedparams import shared
from processors.univariate import ContextNovelty, NoveltyParams


def test_models_of_one_configuration_hold_one_parameter_tuple() -> None:
    a, b = ContextNovelty(warm=20), ContextNovelty(warm=20)
    assert a.p is b.p and a.warm == 20 and a.bins == 8
    assert ContextNovelty(warm=21).p is not a.p
    f, g = SeasonalTrendForecaster(step_s=60), SeasonalTrendForecaster(step_s=60)
    assert f.p is g.p and f.history.p is g.history.p and f.k == 10 and f.block == 8
    assert TrendForecaster().p is TrendForecaster().p and TrendForecaster().min_points == 4
    o, q = MetricOutlook(threshold=10.0), MetricOutlook(threshold=10.0)
    assert o.p is q.p and o.troughs.p is q.troughs.p and o.detector is not None
    assert q.detector is not None and o.detector.p is q.detector.p and o.detector.mode == "up"
    assert o.threshold == 10.0 and o.troughs.keep == 6 and o.k == 10


def test_equal_values_of_other_types_are_not_merged() -> None:
    assert shared(NoveltyParams(margin=1)) is not shared(NoveltyParams(margin=1.0))
    assert type(shared(NoveltyParams(margin=1.0)).margin) is float


def test_the_two_zeros_stay_apart_and_nans_are_one_set_as_by_hex() -> None:
    zero, minus = shared(NoveltyParams(margin=0.0)), shared(NoveltyParams(margin=-0.0))
    assert zero is not minus and math.copysign(1.0, minus.margin) == -1.0
    assert shared(NoveltyParams(margin=float("nan"))) is shared(NoveltyParams(margin=-math.nan))
    assert shared(NoveltyParams(margin=0.25)) is shared(NoveltyParams(margin=1 / 4))


def test_setting_a_parameter_replaces_the_shared_tuple_only_for_that_model() -> None:
    a, b = ContextNovelty(warm=20), ContextNovelty(warm=20)
    a.bits = 12
    assert a.bits == 12 and b.bits == 13 and a.p is shared(NoveltyParams(warm=20, bits=12))


def test_a_restored_model_shares_the_live_models_parameters_and_writes_the_same_bytes() -> None:
    m = ContextNovelty(warm=20)
    for i in range(60):
        m.step(float(i % 7))
    blob = stateformat.encode(m)
    back = stateformat.decode(blob)
    assert back.p is m.p and back.levels is m.levels and stateformat.encode(back) == blob
    h = SeasonalHistory(capacity=64, recheck=8)
    back_h = stateformat.decode(stateformat.encode(h))
    assert back_h.p is h.p


def test_a_pickle_holds_the_parameters_as_fields_not_the_tuple() -> None:
    for obj in (ContextNovelty(), SeasonalHistory(), SeasonalTrendForecaster(), PageHinkley(),
                Troughs(), MetricOutlook()):
        raw = pickle.dumps(obj)
        assert b"Params" not in raw
        back = pickle.loads(raw)
        assert back.p is obj.p
