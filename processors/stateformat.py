"""The explicit, versioned format of a component's model state: no pickle, no class paths.

A snapshot (:meth:`processors.pipeline.Pipeline.snapshot`) is::

    bytes 0-3   magic b"FWS" and the format version (one byte, now 3; 1-2 were zlib'd pickles)
    the rest    zlib(msgpack(envelope)), envelope = {"component", "key", "state", "fleet"}

Inside, plain values are msgpack's own (``None``, bools, ints, floats, str, bytes, lists, maps
with str or int keys; a bytearray field is written as bytes); everything else is a msgpack
extension of a closed set:

=====  ===========  ===========================================================================
code   what         payload (msgpack)
=====  ===========  ===========================================================================
1      a state      ``[tag, {field: value}]``: ``tag`` names a type of :func:`schema` (a stable
       object       name, not a class path); the fields are exactly the schema's
2      tuple        its items
3      deque        ``[maxlen, items]``
4      ndarray      ``[dtype, shape, raw little-endian bytes]``, dtype one of :data:`DTYPES`
6      enum         ``[tag, int]``
=====  ===========  ===========================================================================

Reading builds only the types :func:`schema` names, without calling their constructors, and
checks every field's name and outer type against it: a forged or corrupt snapshot is refused
with a :class:`~schemas.errors.ContractError` naming the type and field, and can never run code
(nothing is looked up by a name it carries). A type's field list is the contract. A field
added to a type gets a :class:`Field` ``default``: older states are read with it (the
migration, applied as they are read), and the version stays; removing, renaming or changing
the meaning of a field raises :data:`VERSION`, with a migration from the version before.
``tests/unit/test_state_format.py`` fails when a class's attributes and its schema part ways.

Two River objects are written by hand: ``PageHinkley`` (the drift test of a forecaster) as its
parameters and running sums, and ``HalfSpaceTrees`` (the opt-in ``"hst"`` anomaly model) as flat
tree arrays (``processors.anomaly._encode_hst``). The opt-in ``"snarimax"`` forecaster keeps a
River pipeline whose state has no explicit format here: a component using it cannot be
snapshotted (:class:`~schemas.errors.ContractError` says so) and starts cold on another worker.
"""

from __future__ import annotations

import functools
import sys
import zlib
from array import array
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import msgpack
import numpy as np
from river import anomaly as river_anomaly
from river import drift as river_drift
from river import stats as river_stats

from schemas.errors import ContractError

MAGIC = b"FWS"
VERSION = 3  # 1 and 2 were pickles (processors.legacy_state migrates them, offline only)
MAX_STATE_BYTES = 64 << 20  # a snapshot that inflates beyond this is refused (zip bomb)
DTYPES = ("<f4", "<f8", "<i8", "<u4", "|u1", "|b1")

_OBJ, _TUPLE, _DEQUE, _NDARRAY, _ENUM = 1, 2, 3, 4, 6
_NONE = type(None)


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


def _f(*kinds: type | str, default: Callable[[], Any] | None = None) -> Field:
    return Field(tuple(kinds), default)


INT, FLOAT, STR, BOOL = (int,), (int, float), (str,), (bool,)


def _fields(**spec: tuple[type | str, ...] | Field) -> dict[str, Field]:
    return {k: v if isinstance(v, Field) else Field(v) for k, v in spec.items()}


# -- the River objects, by hand ----------------------------------------------------------------

_PH_STATE = ("_x_mean", "_sum_increase", "_sum_decrease", "_min_increase", "_max_decrease",
             "_drift_detected", "_test_drift")
_PH_PARAMS = ("min_instances", "delta", "threshold", "alpha", "mode")


def _encode_ph(ph: Any) -> dict[str, Any]:
    unknown = set(vars(ph)) - set(_PH_STATE) - set(_PH_PARAMS)
    if unknown:  # a River release that keeps more state than this format knows
        raise ContractError(f"state: PageHinkley holds {sorted(unknown)}, not in the format")
    out = {k: getattr(ph, k) for k in _PH_PARAMS}
    out.update(
        mean_n=float(ph._x_mean.n), mean=float(ph._x_mean._mean),
        sum_increase=float(ph._sum_increase), sum_decrease=float(ph._sum_decrease),
        min_increase=float(ph._min_increase), max_decrease=float(ph._max_decrease),
        drift_detected=bool(ph._drift_detected),
    )
    return out


def _decode_ph(d: dict[str, Any]) -> Any:
    if d["mode"] not in ("up", "down", "both"):
        raise ContractError(f"state: PageHinkley mode {d['mode']!r} is not up, down or both")
    ph = river_drift.PageHinkley(**{k: d[k] for k in _PH_PARAMS})
    mean = river_stats.Mean()
    mean.n, mean._mean = d["mean_n"], d["mean"]
    ph._x_mean = mean
    ph._sum_increase, ph._sum_decrease = d["sum_increase"], d["sum_decrease"]
    ph._min_increase, ph._max_decrease = d["min_increase"], d["max_decrease"]
    ph._drift_detected = d["drift_detected"]
    return ph


def _encode_hst_detector(det: Any) -> dict[str, Any]:
    from processors.anomaly import _encode_hst

    out = {k: v for k, v in vars(det).items() if k != "hst"}
    out["hst"] = _encode_hst(det.hst) if det.hst.trees else None
    return out


def _decode_hst_detector(d: dict[str, Any]) -> Any:
    from processors.anomaly import AnomalyDetector, _decode_hst

    det = AnomalyDetector.__new__(AnomalyDetector)
    blob = d.pop("hst")
    vars(det).update(d)
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


def _encode_outlook(o: Any) -> dict[str, Any]:
    from processors.snarimax import SnarimaxForecaster

    if isinstance(o.forecaster, SnarimaxForecaster):
        raise ContractError(
            "state: the 'snarimax' forecaster keeps River state that has no explicit format; "
            "components using it cannot be checkpointed (use 'seasonal' or 'trend')"
        )
    return dict(vars(o))


# -- the schema -------------------------------------------------------------------------------


@functools.cache
def schema() -> dict[str, TypeSchema]:
    """Every state type by its tag (built on first use: the classes import this module)."""
    from processors.anomaly import AnomalyDetector, ComponentNovelty, MinMaxScaler
    from processors.bayesnet import BayesNet
    from processors.calibration import BinCalibrator, PendingLabels, RiskLearner
    from processors.drift import MetricOutlook, Troughs
    from processors.features import Windower, WindowState
    from processors.forecast import SeasonalTrendForecaster, TrendFit, TrendForecaster
    from processors.health import HealthState, RuleState
    from processors.multivariate import JointDeviation
    from processors.componentstate import ComponentState
    from processors.risk import LogisticRisk
    from processors.season import SeasonalHistory
    from processors.univariate import ContextNovelty, Suppressor, TailBuffer

    opt_int = (int, _NONE)
    opt_float = (int, float, _NONE)
    trend: dict[str, tuple[type | str, ...] | Field] = dict(
        k=INT, min_points=INT, z=FLOAT, min_std_abs=FLOAT, min_std_rel=FLOAT,
        ts_ms=Field((array,), typecode="q"), values=Field((array,), typecode="d"),
        _fit=("TrendFit", _NONE), _s=FLOAT,
    )
    types: dict[str, TypeSchema] = {
        "ComponentState": TypeSchema(ComponentState, _fields(
            host=STR, windower=("Windower",),
            detector=("AnomalyDetector", "ComponentNovelty", "JointDeviation"),
            health=("HealthState",), outlooks=(dict,), pending=("PendingLabels", _NONE),
            learner=("RiskLearner",), window_status=(dict,), last_status=(dict,),
            last_fail_ms=(dict,), last_risk=FLOAT, samples_seen=INT, windows_seen=INT,
        )),
        "Windower": TypeSchema(Windower, _fields(
            window_s=INT, lateness_s=INT, state=("WindowState",), _w_ms=INT, _l_ms=INT,
        )),
        "WindowState": TypeSchema(WindowState, _fields(
            window_s=INT, lateness_s=INT, watermark_ms=opt_int, closed_until_ms=opt_int,
            open=(dict,), prev_mean=(dict,), accepted=INT, duplicates=INT, late=INT,
            windows_closed=INT,
        )),
        "HealthState": TypeSchema(HealthState, _fields(last_ts_ms=opt_int, rules=(dict,))),
        "RuleState": TypeSchema(RuleState, _fields(
            status=("Status", _NONE), warn_since_ms=opt_int, fail_since_ms=opt_int,
            last_emit_ms=opt_int,
        )),
        "ComponentNovelty": TypeSchema(ComponentNovelty, _fields(
            warm=INT, rest=INT, alarm=FLOAT, seasonal_max_metrics=INT, history=INT,
            models=(dict,), suppressor=("Suppressor",), top=(str, _NONE),
        )),
        "ContextNovelty": TypeSchema(ContextNovelty, _fields(
            bins=INT, order=INT, warm=INT, margin=FLOAT, bits=INT, seasonal=BOOL, history=INT,
            tail=INT, local=INT, s_lo=FLOAT, s_hi=FLOAT, eta=FLOAT, tail_min=INT, n=INT,
            lo=FLOAT, hi=FLOAT, levels=(tuple,), seen=(bytearray,),
            hist=("SeasonalHistory", _NONE), resid=("TailBuffer", _NONE), recent=(deque, _NONE),
            err_local=opt_float, err_season=opt_float, _changes=INT,
        )),
        "JointDeviation": TypeSchema(JointDeviation, _fields(
            alpha=FLOAT, k=INT, smooth=FLOAT, norm_rate=FLOAT, floor=FLOAT, clip=FLOAT,
            scale=FLOAT, warm=INT, metrics=(list,), index=(dict,), mean=(np.ndarray,),
            mad=(np.ndarray,), lo=(np.ndarray,), hi=(np.ndarray,), n=INT, joint=FLOAT,
            ref_mean=opt_float, ref_dev=FLOAT, top=(str, _NONE), last_z=FLOAT,
            freeze=_f(*FLOAT, default=lambda: 0.0), freeze_max=_f(*INT, default=lambda: 1000),
            frozen=_f(*INT, default=lambda: 0),
        )),
        "Suppressor": TypeSchema(Suppressor, _fields(
            rest=INT, alarm=FLOAT, t=INT, t_alarm=opt_int,
        )),
        "TailBuffer": TypeSchema(TailBuffer, _fields(n=INT, min_count=INT, ring=(deque,)),
                                 transient=("_sorted",), after=_after_tail),
        "SeasonalHistory": TypeSchema(SeasonalHistory, _fields(
            capacity=INT, block=INT, recheck=INT, min_lag=INT, min_acf=FLOAT, min_points=INT,
            buf=(np.ndarray,), n=INT, period=opt_int, changes=INT, _acc=FLOAT, _k=INT,
        )),
        "AnomalyDetector": TypeSchema(AnomalyDetector, _fields(
            n_trees=INT, height=INT, window_size=INT, seed=INT, warmup=INT, alpha=FLOAT,
            scaler=("MinMaxScaler",), n_learnt=INT, n_stats=INT, mu=FLOAT, var=FLOAT,
            hst=(bytes, _NONE),
        ), encode=_encode_hst_detector, decode=_decode_hst_detector),
        "MinMaxScaler": TypeSchema(MinMaxScaler, _fields(
            floor_abs=FLOAT, floor_rel=FLOAT, margin=FLOAT, lo=(dict,), hi=(dict,),
        )),
        "MetricOutlook": TypeSchema(MetricOutlook, _fields(
            kind=STR, step_s=INT, k=INT, threshold=FLOAT, min_instances=INT, alpha=FLOAT,
            forecaster=("TrendForecaster", "SeasonalTrendForecaster"),
            detector=("PageHinkley", _NONE), drifts=INT, last=opt_float, slope_fast=FLOAT,
            slope_slow=FLOAT, troughs=("Troughs",), n=INT,
        ), encode=_encode_outlook),
        "Troughs": TypeSchema(Troughs, _fields(
            keep=INT, factor=FLOAT, rate=FLOAT, min_rise=FLOAT, max_age=INT, step=FLOAT,
            drop=FLOAT, peak=opt_float, falling=BOOL, at=(list,), n=INT,
        )),
        "TrendForecaster": TypeSchema(TrendForecaster, _fields(**trend)),
        "SeasonalTrendForecaster": TypeSchema(SeasonalTrendForecaster, _fields(
            **trend, step_s=INT, block=INT, capacity=INT, min_acf=FLOAT,
            history=("SeasonalHistory",), n=INT, raw=Field((array,), typecode="d"),
        ), transient=("_raw_fit", "_level_at"), after=_after_seasonal),
        "TrendFit": TypeSchema(TrendFit, _fields(
            slope=FLOAT, intercept=FLOAT, r2=FLOAT, resid_std=FLOAT, n=INT, t_mean_s=FLOAT,
            sxx=FLOAT, y_mean=FLOAT,
        )),
        "PageHinkley": TypeSchema(river_drift.PageHinkley, _fields(
            min_instances=INT, delta=FLOAT, threshold=FLOAT, alpha=FLOAT, mode=STR,
            mean_n=FLOAT, mean=FLOAT, sum_increase=FLOAT, sum_decrease=FLOAT,
            min_increase=FLOAT, max_decrease=FLOAT, drift_detected=BOOL,
        ), encode=_encode_ph, decode=_decode_ph),
        "PendingLabels": TypeSchema(PendingLabels, _fields(
            horizon_ms=INT, items=(deque,), limit=INT, acted=(list,), skipped=INT,
            last_end_ms=opt_int,
        )),
        "RiskLearner": TypeSchema(RiskLearner, _fields(
            lr=FLOAT, l2=FLOAT, target=STR, calibrate=BOOL, bn=("BayesNet",),
            calibrator=("BinCalibrator",), combiner=("LogisticRisk",), labels=INT,
            positives=INT,
        )),
        "BayesNet": TypeSchema(BayesNet, _fields(
            prior_strength=FLOAT, prior_y=(tuple,), y_counts=(list,), tables=(dict,),
            n_learnt=INT,
        )),
        "BinCalibrator": TypeSchema(BinCalibrator, _fields(
            bins=INT, strength=FLOAT, n=(list,), pos=(list,), table=(list,),
        )),
        "LogisticRisk": TypeSchema(LogisticRisk, _fields(weights=(dict,), bias=FLOAT, lr=FLOAT)),
    }
    return types


@functools.cache
def enums() -> dict[str, type[IntEnum]]:
    from processors.health import Status

    return {"Status": Status}


@functools.cache
def _tags() -> dict[type, str]:
    return {ts.cls: tag for tag, ts in schema().items()}


# -- writing ----------------------------------------------------------------------------------


def _pack(value: Any) -> bytes:
    out: bytes = msgpack.packb(value, default=_default, strict_types=True, use_bin_type=True)
    return out


def _default(obj: Any) -> msgpack.ExtType:
    tag = _tags().get(type(obj))
    if tag is not None:
        return msgpack.ExtType(_OBJ, _pack([tag, _fields_of(tag, obj)]))
    if type(obj) is tuple:
        return msgpack.ExtType(_TUPLE, _pack(list(obj)))
    if type(obj) is deque:
        return msgpack.ExtType(_DEQUE, _pack([obj.maxlen, list(obj)]))
    if type(obj) is array and obj.typecode in "qd":  # as the list it was before (#14)
        return obj.tolist()
    if type(obj) is np.ndarray:
        dtype = obj.dtype.newbyteorder("<") if obj.dtype.byteorder == ">" else obj.dtype
        if dtype.str not in DTYPES:
            raise ContractError(f"state: an array of dtype {obj.dtype} is not in the format")
        raw = np.ascontiguousarray(obj, dtype=dtype).tobytes()
        return msgpack.ExtType(_NDARRAY, _pack([dtype.str, list(obj.shape), raw]))
    if isinstance(obj, IntEnum) and type(obj).__name__ in enums():
        return msgpack.ExtType(_ENUM, _pack([type(obj).__name__, int(obj)]))
    raise ContractError(f"state: a {type(obj).__qualname__} is not in the state format")


def _fields_of(tag: str, obj: Any) -> dict[str, Any]:
    ts = schema()[tag]
    if ts.encode is not None:
        out = ts.encode(obj)
    else:
        out = {k: v for k, v in vars(obj).items() if k not in ts.transient}
    if out.keys() != ts.fields.keys():
        extra, missing = sorted(out.keys() - ts.fields.keys()), sorted(ts.fields.keys() - out)
        raise ContractError(
            f"state: {tag} has fields {extra} the format lacks and lacks {missing}: change "
            "processors/stateformat.py (and its VERSION) with the class"
        )
    return out


def encode(value: Any) -> bytes:
    """``value`` (state objects, plain values) in the format, with the header: what
    :func:`decode` reads back."""
    body = zlib.compress(_pack(value), 6)
    return MAGIC + bytes([VERSION]) + body


# -- reading ----------------------------------------------------------------------------------


def version_of(blob: bytes) -> int | None:
    """The format version a blob says it has; ``None`` if it is not this format at all (a
    format 1-2 pickle starts with zlib's ``x``)."""
    if len(blob) >= 4 and blob[:3] == MAGIC:
        return blob[3]
    return None


def decode(blob: bytes) -> Any:
    """What :func:`encode` wrote; :class:`ContractError` for anything else. Never runs code
    the blob names."""
    version = version_of(blob)
    if version is None:
        hint = " (a pickled format 1-2 checkpoint: refused)" if blob[:1] == b"x" else ""
        raise ContractError(f"state: not a forewarn state{hint}")
    if version > VERSION:
        raise ContractError(f"state: format version {version} is newer than this reader's "
                            f"{VERSION}; upgrade forewarn")
    if version < VERSION:
        raise ContractError(f"state: format version {version} has no migration here")
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(blob[4:], MAX_STATE_BYTES)
        if inflater.unconsumed_tail:
            raise ContractError(f"state: inflates beyond {MAX_STATE_BYTES} bytes")
        return _unpack(raw, version, ({}, {}))
    except ContractError:
        raise
    except (ValueError, TypeError, KeyError, zlib.error, RecursionError,
            msgpack.UnpackException, msgpack.ExtraData) as exc:
        raise ContractError(f"state: unreadable: {type(exc).__name__}: {exc}") from exc


_Memo = tuple[dict[float, float], dict[int, int]]


def _unpack(raw: bytes, version: int, memo: _Memo) -> Any:
    return msgpack.unpackb(
        raw, ext_hook=functools.partial(_ext, version, memo), strict_map_key=False, raw=False,
        use_list=True,
    )


def _interned(value: Any, memo: _Memo) -> Any:
    """``value`` with its equal numbers (in lists and dicts too) one object each, as in a live
    state (msgpack makes a new float or int object for every value it reads: a restored
    state held twice the numbers of a live one, #14); short strings (metric names, the keys
    of many maps) are interned. Zeros and NaN are left as they are (``0.0 == -0.0``); bools
    are not ints here. Dicts keep their order."""
    kind = type(value)
    if kind is float:
        return memo[0].setdefault(value, value) if value == value and value != 0.0 else value
    if kind is int:
        return value if -5 <= value <= 256 else memo[1].setdefault(value, value)
    if kind is str:
        return sys.intern(value) if len(value) <= 64 else value  # metric names, mostly
    if kind is list:
        value[:] = [_interned(v, memo) for v in value]
    elif kind is dict:
        items = [(sys.intern(k) if type(k) is str and len(k) <= 64 else k, _interned(v, memo))
                 for k, v in value.items()]
        value.clear()
        value.update(items)
    return value


def _ext(version: int, memo: _Memo, code: int, data: bytes) -> Any:
    inner = _unpack(data, version, memo)
    if code == _TUPLE and isinstance(inner, list):
        return tuple(_interned(inner, memo))
    if code == _DEQUE and isinstance(inner, list) and len(inner) == 2:
        maxlen, items = inner
        if (maxlen is None or type(maxlen) is int) and isinstance(items, list):
            return deque(_interned(items, memo), maxlen)
    if code == _NDARRAY and isinstance(inner, list) and len(inner) == 3:
        return _array(*inner)
    if code == _ENUM and isinstance(inner, list) and len(inner) == 2:
        kind = enums().get(inner[0]) if isinstance(inner[0], str) else None
        if kind is not None:
            return kind(inner[1])
    if code == _OBJ and isinstance(inner, list) and len(inner) == 2:
        tag, fields = inner
        if isinstance(tag, str) and isinstance(fields, dict):
            return _build(tag, _interned(fields, memo), version)
    raise ContractError(f"state: a malformed extension (code {code})")


def _array(dtype: object, shape: object, raw: object) -> np.ndarray:
    if dtype not in DTYPES or not isinstance(raw, bytes) or not isinstance(shape, list):
        raise ContractError(f"state: an array of dtype {dtype!r} is not in the format")
    arr = np.frombuffer(raw, dtype=np.dtype(str(dtype))).copy()
    if not all(type(n) is int and n >= 0 for n in shape) or int(np.prod(shape)) != arr.size:
        raise ContractError(f"state: an array's shape {shape} does not fit its {arr.size} items")
    return arr.reshape(shape).astype(np.dtype(str(dtype)).newbyteorder("="))


def _build(tag: str, fields: dict[str, Any], version: int) -> Any:
    ts = schema().get(tag)
    if ts is None:
        raise ContractError(f"state: unknown type {tag!r}")
    for name, spec in ts.fields.items():
        if name not in fields and spec.default is not None:
            fields[name] = spec.default()  # a state from before the field existed
    if fields.keys() != ts.fields.keys():
        extra, missing = sorted(map(str, fields.keys() - ts.fields.keys())), sorted(
            ts.fields.keys() - fields.keys())
        raise ContractError(f"state: {tag} with fields {extra} unknown, {missing} missing")
    for name, spec in ts.fields.items():
        if bytearray in spec.kinds and type(fields[name]) is bytes:
            fields[name] = bytearray(fields[name])  # msgpack writes a bytearray as bytes
        if spec.typecode is not None and type(fields[name]) is list:
            fields[name] = _typed(tag, name, spec.typecode, fields[name])
        if not _fits(fields[name], spec.kinds):
            raise ContractError(
                f"state: {tag}.{name} is a {type(fields[name]).__name__}, not "
                f"{' or '.join(k if isinstance(k, str) else k.__name__ for k in spec.kinds)}"
            )
    if ts.decode is not None:
        return ts.decode(fields)
    obj: Any = object.__new__(ts.cls)
    setattr_ = object.__setattr__
    for name, value in fields.items():  # one by one, in the class's order: the instance keeps
        setattr_(obj, name, value)  # CPython's shared keys (``vars().update`` made a dict each)
    if ts.after is not None:
        ts.after(obj)
    return obj


def _typed(tag: str, name: str, typecode: str, items: list[Any]) -> array[Any]:
    """A list written for an ``array.array`` field, as that array (ints for ``q``, numbers
    for ``d``: anything else is refused, never coerced)."""
    kinds = (int,) if typecode == "q" else (int, float)
    if not all(type(v) in kinds for v in items):
        raise ContractError(f"state: {tag}.{name} holds a value that is not a number")
    try:
        return array(typecode, items)
    except OverflowError as exc:
        raise ContractError(f"state: {tag}.{name}: {exc}") from exc


def _fits(value: Any, kinds: tuple[type | str, ...]) -> bool:
    for kind in kinds:
        if isinstance(kind, str):
            target = schema().get(kind)
            cls = target.cls if target is not None else enums().get(kind)
            if cls is not None and type(value) is cls:
                return True
        elif kind is int:
            if type(value) is int:
                return True
        elif kind is float:
            if type(value) is float:
                return True
        elif type(value) is kind:
            return True
    return False
