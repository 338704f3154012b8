"""The state format's schema: every type a snapshot may hold, by a stable tag, with its fields.

:func:`schema` is the contract of :mod:`processors.stateformat` (the codec: it writes and reads
only the types named here, checking each field's name and outer type). The table is built per
state family: a component's windows and health, the novelty detectors, the forecasters and
their drift tests, the risk models. A field added to a type gets a :class:`Field` ``default``
(older states are read with it); removing, renaming or changing the meaning of a field raises
``stateformat.VERSION``. ``tests/unit/test_state_format.py`` fails when a class's attributes
and its schema part ways.
"""

from __future__ import annotations

import functools
import operator
from array import array
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
from river import anomaly as river_anomaly

from schemas.errors import ContractError

__all__ = ["BOOL", "FLOAT", "INT", "STR", "Field", "TypeSchema", "attributes", "enums", "schema"]

_NONE = type(None)
OPT_INT = (int, _NONE)
OPT_FLOAT = (int, float, _NONE)


@dataclass(frozen=True)
class Field:
    """One field of a state type: the outer types its value may have (a tag string means an
    object of that schema type), and the value a state written before it existed gets."""

    kinds: tuple[type | str, ...]
    default: Callable[[], Any] | None = None
    typecode: str | None = None  # an ``array.array`` of this typecode, written as a list


@dataclass(frozen=True)
class TypeSchema:
    """A state type: its class, fields, and the attributes rebuilt on read (not written)."""

    cls: type
    fields: Mapping[str, Field]
    transient: tuple[str, ...] = ()
    encode: Callable[[Any], dict[str, Any]] | None = None  # custom: object -> fields
    decode: Callable[[dict[str, Any]], Any] | None = None  # custom: fields -> object
    after: Callable[[Any], None] | None = None  # rebuild transient attributes after a read
    before: Callable[[dict[str, Any]], None] | None = None  # convert fields read before set
    # fields held in one shared object ``p`` of this NamedTuple class (processors.sharedparams)
    params: type[Any] | None = None


def _f(*kinds: type | str, default: Callable[[], Any] | None = None) -> Field:
    return Field(tuple(kinds), default)


INT, FLOAT, STR, BOOL = (int,), (int, float), (str,), (bool,)
_DOUBLES = Field((array, list), typecode="d")  # an array('d'), or a list (format 2's pickles)
_CHECKED: set[str] = set()  # types whose attribute names were held against the schema


def _fields(**spec: tuple[type | str, ...] | Field) -> dict[str, Field]:
    return {k: v if isinstance(v, Field) else Field(v) for k, v in spec.items()}


# -- the drift test and River's trees, by hand -------------------------------------------------

_PH_PARAMS = ("min_instances", "delta", "threshold", "alpha", "mode")


def _encode_ph(ph: Any) -> dict[str, Any]:
    """:class:`processors.pagehinkley.PageHinkley`, with the fields River's was written with."""
    out = {k: getattr(ph, k) for k in _PH_PARAMS}
    out.update(
        mean_n=float(ph.n), mean=float(ph.mean),
        sum_increase=float(ph.sum_increase), sum_decrease=float(ph.sum_decrease),
        min_increase=float(ph.min_increase), max_decrease=float(ph.max_decrease),
        drift_detected=bool(ph.drift_detected))
    return out


def _decode_ph(d: dict[str, Any]) -> Any:
    from processors.pagehinkley import MODES, PageHinkley

    if d["mode"] not in MODES:
        raise ContractError(f"state: PageHinkley mode {d['mode']!r} is not up, down or both")
    ph = PageHinkley(**{k: d[k] for k in _PH_PARAMS})
    ph.n, ph.mean = d["mean_n"], d["mean"]
    ph.sum_increase, ph.sum_decrease = d["sum_increase"], d["sum_decrease"]
    ph.min_increase, ph.max_decrease = d["min_increase"], d["max_decrease"]
    ph.drift_detected = d["drift_detected"]
    return ph


def _encode_hst_detector(det: Any) -> dict[str, Any]:
    from processors.anomaly import _encode_hst

    out = {k: getattr(det, k) for k in schema()["AnomalyDetector"].fields if k != "hst"}  # s22
    out["hst"] = _encode_hst(det.hst) if det.hst.trees else None
    return out


def _decode_hst_detector(d: dict[str, Any]) -> Any:
    from processors.anomaly import AnomalyDetector, _decode_hst

    det = AnomalyDetector.__new__(AnomalyDetector)
    blob = d.pop("hst")
    for k, v in d.items():  # not vars(det).update: a mypyc class has no __dict__ (s22)
        setattr(det, k, v)
    for k in ("n_trees", "height", "window_size", "seed"):
        if not 0 < d[k] < (1 << 31) or (k == "height" and d[k] > 20):
            raise ContractError(f"state: AnomalyDetector.{k}={d[k]} is out of range")
    det.hst = river_anomaly.HalfSpaceTrees(
        n_trees=det.n_trees, height=det.height, window_size=det.window_size, seed=det.seed
    )
    if blob is not None:
        try:
            _decode_hst(det.hst, blob)
        except Exception as exc:  # a blob that does not fit the trees' shape
            raise ContractError(f"state: AnomalyDetector trees unreadable: {exc}") from exc
    return det


def _after_tail(tb: Any) -> None:
    tb._sorted = sorted(tb.ring)


def _after_seasonal(f: Any) -> None:
    f._raw_fit = None  # recomputed on demand, as after the first learn_one
    if f.history.period is None and f.values == f.raw:
        f.values = f.raw  # one array, as live (processors.forecast, #14)


def _new_profile() -> Any:
    from processors.dayprofile import DayProfile

    return DayProfile()  # a state from before time-of-day profiles: one starts empty


def _encode_outlook(o: Any) -> dict[str, Any]:
    from processors.snarimax import SnarimaxForecaster

    if isinstance(o.forecaster, SnarimaxForecaster):
        raise ContractError(
            "state: the 'snarimax' forecaster keeps River state that has no explicit format; "
            "components using it cannot be checkpointed (use 'seasonal' or 'trend')"
        )
    return attributes("MetricOutlook", o)  # not vars(o): see attributes


# -- the schema -------------------------------------------------------------------------------


@functools.cache
def schema() -> dict[str, TypeSchema]:
    """Every state type by its tag (built on first use: the classes import the codec)."""
    return {**_component_types(), **_novelty_types(), **_forecast_types(), **_risk_types()}


def _component_types() -> dict[str, TypeSchema]:
    """A component's state, its windows and its health rules."""
    from processors import stateforms
    from processors.componentstate import ComponentState
    from processors.features import Windower, WindowState
    from processors.health import HealthState, RuleState

    return {
        "ComponentState": TypeSchema(ComponentState, _fields(
            host=STR, windower=("Windower",),
            detector=("AnomalyDetector", "ComponentNovelty", "JointDeviation"),
            health=("HealthState",), outlooks=(dict,), pending=("PendingLabels", _NONE),
            learner=("RiskLearner",), window_status=(dict,), last_status=(dict,),
            last_fail_ms=(dict,), last_risk=FLOAT, samples_seen=INT, windows_seen=INT,
            last_act=_f(*OPT_FLOAT, default=lambda: None),  # none before s20; alarm_hi_ms s29
            alarm_hi_ms=_f(*OPT_INT, default=lambda: None)), after=stateforms.after_component),
        "Windower": TypeSchema(Windower, _fields(
            window_s=INT, lateness_s=INT, state=("WindowState",), _w_ms=INT, _l_ms=INT,
        )),
        "WindowState": TypeSchema(WindowState, _fields(
            window_s=INT, lateness_s=INT, watermark_ms=OPT_INT, closed_until_ms=OPT_INT,
            open=(dict,), prev_mean=(dict,), accepted=INT, duplicates=INT, late=INT,
            windows_closed=INT,
        ), encode=stateforms.encode_windows, after=stateforms.after_windows),
        "HealthState": TypeSchema(HealthState, _fields(last_ts_ms=OPT_INT, rules=(dict,))),
        "RuleState": TypeSchema(RuleState, _fields(
            status=("Status", _NONE), warn_since_ms=OPT_INT, fail_since_ms=OPT_INT,
            last_emit_ms=OPT_INT,
        )),
    }


def _novelty_types() -> dict[str, TypeSchema]:
    """The anomaly models: per-metric novelty, the joint deviation, Half-Space Trees."""
    from processors import stateforms
    from processors.anomaly import AnomalyDetector, ComponentNovelty, MinMaxScaler
    from processors.multivariate import JointDeviation
    from processors.noveltyconfirm import ConfirmingSuppressor
    from processors.season import HistoryParams, SeasonalHistory
    from processors.univariate import ContextNovelty, NoveltyParams, Suppressor, TailBuffer

    return {
        "ComponentNovelty": TypeSchema(ComponentNovelty, _fields(
            warm=INT, rest=INT, alarm=FLOAT, seasonal_max_metrics=INT, history=INT,
            models=(dict,), suppressor=("Suppressor", "ConfirmingSuppressor"), top=(str, _NONE),
            coarse=_f(*INT, default=lambda: 0), fine=_f(*FLOAT, default=lambda: 0.0),
            fine_suppressor=_f("Suppressor", _NONE, default=lambda: None),
            hold=_f(*BOOL, default=lambda: False), confirm=_f(*BOOL, default=lambda: False))),
        "ContextNovelty": TypeSchema(ContextNovelty, _fields(
            bins=INT, order=INT, warm=INT, margin=FLOAT, bits=INT, seasonal=BOOL, history=INT,
            tail=INT, local=INT, s_lo=FLOAT, s_hi=FLOAT, eta=FLOAT, tail_min=INT, n=INT,
            lo=FLOAT, hi=FLOAT, levels=(tuple,), seen=(bytearray,),
            hist=("SeasonalHistory", _NONE), resid=("TailBuffer", _NONE), recent=(deque, _NONE),
            err_local=OPT_FLOAT, err_season=OPT_FLOAT, _changes=INT,
            coarse=_f(*INT, default=lambda: 0),
            seen_coarse=_f(bytearray, _NONE, default=lambda: None),
        ), encode=stateforms.encode_novelty, after=stateforms.after_novelty,
            params=NoveltyParams),
        "JointDeviation": TypeSchema(JointDeviation, _fields(
            alpha=FLOAT, k=INT, smooth=FLOAT, norm_rate=FLOAT, floor=FLOAT, clip=FLOAT,
            scale=FLOAT, warm=INT, metrics=(list,), index=(dict,), mean=(np.ndarray,),
            mad=(np.ndarray,), lo=(np.ndarray,), hi=(np.ndarray,), n=INT, joint=FLOAT,
            ref_mean=OPT_FLOAT, ref_dev=FLOAT, top=(str, _NONE), last_z=FLOAT,
            freeze=_f(*FLOAT, default=lambda: 0.0), freeze_max=_f(*INT, default=lambda: 1000),
            frozen=_f(*INT, default=lambda: 0),
            calibrate=_f(*INT, default=lambda: 0), calibrate_q=_f(*FLOAT, default=lambda: 0.99),
            weight=_f(np.ndarray, _NONE, default=lambda: None),
            tops=_f(np.ndarray, default=lambda: np.zeros((0, 1))))),
        "Suppressor": TypeSchema(Suppressor, _fields(
            rest=INT, alarm=FLOAT, t=INT, t_alarm=OPT_INT, hold=_f(*BOOL, default=lambda: False))),
        "ConfirmingSuppressor": TypeSchema(ConfirmingSuppressor, _fields(  # s23
            rest=INT, alarm=FLOAT, t=INT, t_alarm=OPT_INT, hold=BOOL, confirm=INT, order=INT,
            quiet=FLOAT, record=BOOL, gap_max=INT, pending=OPT_FLOAT, t_pending=INT,
            floor=_f(*INT, default=lambda: 0))),  # s24
        "TailBuffer": TypeSchema(TailBuffer, _fields(n=INT, min_count=INT, ring=(deque,)),
                                 transient=("_sorted",), after=_after_tail),
        "SeasonalHistory": TypeSchema(SeasonalHistory, _fields(
            capacity=INT, block=INT, recheck=INT, min_lag=INT, min_acf=FLOAT, min_points=INT,
            buf=(np.ndarray,), n=INT, period=OPT_INT, changes=INT, _acc=FLOAT, _k=INT,
        ), params=HistoryParams),
        "AnomalyDetector": TypeSchema(AnomalyDetector, _fields(
            n_trees=INT, height=INT, window_size=INT, seed=INT, warmup=INT, alpha=FLOAT,
            scaler=("MinMaxScaler",), n_learnt=INT, n_stats=INT, mu=FLOAT, var=FLOAT,
            hst=(bytes, _NONE),
        ), encode=_encode_hst_detector, decode=_decode_hst_detector),
        "MinMaxScaler": TypeSchema(MinMaxScaler, _fields(
            floor_abs=FLOAT, floor_rel=FLOAT, margin=FLOAT, lo=(dict,), hi=(dict,))),
    }


def _forecast_types() -> dict[str, TypeSchema]:
    """A metric's outlook: its forecaster, its drift test, its troughs."""
    from processors.dayprofile import DayProfile
    from processors.forecast import (
        SeasonalParams,
        SeasonalTrendForecaster,
        TrendFit,
        TrendForecaster,
        TrendParams,
    )
    from processors.forecastrecord import ForecastRecord, MetricRecord
    from processors.metricoutlook import MetricOutlook, OutlookParams, TroughParams, Troughs
    from processors.pagehinkley import PageHinkley

    trend: dict[str, tuple[type | str, ...] | Field] = dict(
        k=INT, min_points=INT, z=FLOAT, min_std_abs=FLOAT, min_std_rel=FLOAT,
        ts_ms=Field((array,), typecode="q"), values=Field((array,), typecode="d"),
        _fit=("TrendFit", _NONE), _s=FLOAT,
    )
    return {
        "MetricOutlook": TypeSchema(MetricOutlook, _fields(
            kind=STR, step_s=INT, k=INT, threshold=FLOAT, min_instances=INT, alpha=FLOAT,
            forecaster=("TrendForecaster", "SeasonalTrendForecaster"),
            detector=("PageHinkley", _NONE), drifts=INT, last=OPT_FLOAT, slope_fast=FLOAT,
            slope_slow=FLOAT, troughs=("Troughs",), n=INT,
            profile=Field(("DayProfile", _NONE), default=_new_profile),
            record=_f("MetricRecord", _NONE, default=lambda: None),  # none before s19
        ), encode=_encode_outlook, params=OutlookParams),
        "MetricRecord": TypeSchema(MetricRecord, _fields(
            forecast=("ForecastRecord",), warn=("ForecastRecord",), over_ms=INT)),
        "ForecastRecord": TypeSchema(ForecastRecord, _fields(n=FLOAT, k=FLOAT, open_ms=INT)),
        "DayProfile": TypeSchema(DayProfile, _fields(
            bins=INT, decay=FLOAT, hi=(np.ndarray,), cur=INT, cur_max=FLOAT,
        ), transient=("_memo",)),
        "Troughs": TypeSchema(Troughs, _fields(
            keep=INT, factor=FLOAT, rate=FLOAT, min_rise=FLOAT, max_age=INT, step=FLOAT,
            drop=FLOAT, peak=OPT_FLOAT, falling=BOOL, at=(list,), n=INT,
        ), params=TroughParams),
        "TrendForecaster": TypeSchema(TrendForecaster, _fields(**trend), params=TrendParams),
        "SeasonalTrendForecaster": TypeSchema(SeasonalTrendForecaster, _fields(
            **trend, step_s=INT, block=INT, capacity=INT, min_acf=FLOAT,
            history=("SeasonalHistory",), n=INT, raw=Field((array,), typecode="d"),
        ), transient=("_raw_fit", "_level_at"), after=_after_seasonal, params=SeasonalParams),
        "TrendFit": TypeSchema(TrendFit, _fields(
            slope=FLOAT, intercept=FLOAT, r2=FLOAT, resid_std=FLOAT, n=INT, t_mean_s=FLOAT,
            sxx=FLOAT, y_mean=FLOAT,
        )),
        "PageHinkley": TypeSchema(PageHinkley, _fields(
            min_instances=INT, delta=FLOAT, threshold=FLOAT, alpha=FLOAT, mode=STR,
            mean_n=FLOAT, mean=FLOAT, sum_increase=FLOAT, sum_decrease=FLOAT,
            min_increase=FLOAT, max_decrease=FLOAT, drift_detected=BOOL,
        ), encode=_encode_ph, decode=_decode_ph),
    }


def _risk_types() -> dict[str, TypeSchema]:
    """The risk models and the windows waiting for their labels."""
    from processors import bayesnet, bincalibrator, stateforms
    from processors.calibration import AlarmHead, PendingLabels, RiskLearner, lean_alarm
    from processors.risk import LogisticRisk

    return {
        "PendingLabels": TypeSchema(PendingLabels, _fields(
            horizon_ms=INT, items=(deque,), limit=INT, acted=(list,), skipped=INT,
            last_end_ms=OPT_INT,
        ), encode=stateforms.encode_pending, before=stateforms.before_pending),
        "RiskLearner": TypeSchema(RiskLearner, _fields(
            lr=FLOAT, l2=FLOAT, target=STR, calibrate=BOOL, bn=("BayesNet",),
            calibrator=("BinCalibrator",), combiner=("LogisticRisk",), labels=INT,
            positives=INT, reach_n=_f(*FLOAT, default=lambda: 0.0),
            reach_k=_f(*FLOAT, default=lambda: 0.0),
            alarm=_f("AlarmHead", "RiskLearner", _NONE, default=lambda: None),  # s21; s22 lean
        ), before=lean_alarm),
        "AlarmHead": TypeSchema(AlarmHead, _fields(calibrator=("BinCalibrator",),
                                                   combiner=("LogisticRisk", _NONE))),
        "BayesNet": TypeSchema(bayesnet.BayesNet, _fields(
            prior_strength=FLOAT, prior_y=(tuple,), y_counts=(list,), tables=(dict,), n_learnt=INT,
        ), encode=stateforms.encode_bayesnet, after=stateforms.after_bayesnet),
        "BinCalibrator": TypeSchema(bincalibrator.BinCalibrator, _fields(  # arrays since s22
            bins=INT, strength=FLOAT, n=_DOUBLES, pos=_DOUBLES, table=_DOUBLES)),
        "LogisticRisk": TypeSchema(LogisticRisk, _fields(weights=(dict,), bias=FLOAT, lr=FLOAT)),
    }


def attributes(tag: str, obj: Any) -> dict[str, Any]:
    """The fields of ``obj`` (a state object of type ``tag``), read one by one in the
    schema's order, which is the classes' attribute order (the bytes are those ``vars`` gave).
    ``vars(obj)`` would give the object a dict of its own for good: CPython keeps instance
    attributes in a shared-key layout until the dict is asked for, and a snapshot asked for
    every object's (64 bytes each, ~5 KB per component after its first checkpoint, #14). The
    names of the first object of each type are checked against the schema (all of them in
    ``tests/unit/test_state_format.py``); a missing field reads as such. The fields are read
    by one ``operator.attrgetter`` per type (s17), paired by a comprehension (s24: compiled, a
    loop; ``dict(zip(...))`` made a pair tuple a field, ~900 instructions each)."""
    if tag not in _CHECKED:
        ts = schema()[tag]
        _CHECKED.add(tag)
        held = {k: v for k, v in _set_attributes(obj).items() if k not in ts.transient}
        if ts.params is not None and "p" in held:  # the shared parameters, by name
            held.update(held.pop("p")._asdict())
        if held.keys() != ts.fields.keys():
            _CHECKED.discard(tag)
            return held  # the caller names what differs
    names, read = reader(tag)
    try:
        return {n: v for n, v in zip(names, read(obj))}  # noqa: B905 (one value a name)
    except AttributeError:  # a field missing: the caller names it
        missing = object()
        out = {k: getattr(obj, k, missing) for k in names}
        return {k: v for k, v in out.items() if v is not missing}


@functools.cache
def reader(tag: str) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    """The field names of ``tag`` and one getter of all of them (a tuple, in that order); with
    shared parameters, ``p`` read once, not a property call per parameter (s19)."""
    ts = schema()[tag]
    names, params = tuple(ts.fields), ts.params._fields if ts.params is not None else ()
    rest = tuple(n for n in names if n not in params)
    if params and set(params) <= set(names) and len(rest) > 1:  # where each is in p + rest:
        order = [params.index(n) if n in params else len(params) + rest.index(n) for n in names]
        pick, own = operator.itemgetter(*order), operator.attrgetter(*rest)
        return names, lambda obj: pick(obj.p + own(obj))
    get = operator.attrgetter(*names)
    if len(names) == 1:
        return names, lambda obj: (get(obj),)
    return names, get


def _set_attributes(obj: Any) -> dict[str, Any]:
    """Every attribute ``obj`` holds: its ``__slots__`` that are set (a slotted class, #14)
    and its ``__dict__`` (which this makes, for good: only the first object of a type)."""
    kind = type(obj)  # a mypyc class: its __mypyc_attrs__, which repeat its bases' (s22)
    out = {n: getattr(obj, n) for c in reversed(kind.__mro__)
           for n in c.__dict__.get("__slots__", getattr(c, "__mypyc_attrs__", ()))
           if n not in ("__dict__", "__weakref__") and hasattr(obj, n)}
    return {**out, **vars(obj)} if kind.__dictoffset__ else out


@functools.cache
def enums() -> dict[str, type[IntEnum]]:
    from processors.health import Status

    return {"Status": Status}
