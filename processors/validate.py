"""A sample's validation (#14: moved out of :mod:`processors.features` in s33, which
re-exports it): :func:`validate_sample` gives the reason a sample is refused, or its
component, time and finite float metrics (:func:`clean_metrics`).

>>> validate_sample({"component": "a", "ts": 10_000, "metrics": {"x": 1, "y": float("nan")}})
('', 'a', 10000, {'x': 1.0})
>>> validate_sample({"component": "a", "ts": True, "metrics": {"x": 1.0}})[0]
'invalid: ts must be an int of epoch milliseconds, not bool'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["TS_LIMIT_MS", "clean_metrics", "sample_field", "validate_sample"]


def clean_metrics(metrics: object) -> dict[str, float]:
    """The finite numeric values of a metrics map (bools, NaN, inf, non-str keys dropped)."""
    if type(metrics) is dict:  # the usual case: a copy, then what is not a clean float fixed
        return _cleaned(metrics)
    if not isinstance(metrics, Mapping):
        return {}
    out: dict[str, float] = {}
    for k, v in metrics.items():
        tv = type(v)
        if tv is float:  # the usual case: kept as it is (compiled: not boxed again, s27)
            x: float = v
            if x - x == 0.0 and type(k) is str:  # finite (inf - inf, nan: nan), native
                out[k] = v
        elif tv is not bool and isinstance(v, int | float):
            try:
                f = float(v)
            except OverflowError:  # an int beyond any double
                continue
            if f - f == 0.0 and type(k) is str:
                out[k] = f
    return out


def _cleaned(metrics: dict[Any, Any]) -> dict[str, float]:
    """:func:`clean_metrics` of a dict: the same items in the same order, made as one copy
    (its table cloned) from which the rest are dropped or made floats in place (their
    places kept), not a dict filled item by item (s32)."""
    out: dict[str, float] = metrics.copy()
    for k, v in metrics.items():
        if type(v) is float:
            x: float = v
            if x - x == 0.0 and type(k) is str:  # finite, native
                continue
            del out[k]
        elif type(v) is not bool and isinstance(v, int | float):
            try:
                f = float(v)
            except OverflowError:  # an int beyond any double
                del out[k]
                continue
            if f - f == 0.0 and type(k) is str:
                out[k] = f  # in its place
            else:
                del out[k]
        else:
            del out[k]
    return out


TS_LIMIT_MS = 2**53  # beyond any real clock, and where int64/float maths would start to bite


def validate_sample(sample: object) -> tuple[str, str, int, dict[str, float]]:
    """``(reason, component, ts, clean metrics)``; ``reason`` is empty when usable."""
    if type(sample) is not dict and not isinstance(sample, Mapping):
        return f"invalid: a sample must be a mapping, not {type(sample).__name__}", "", 0, {}
    component = sample_field(sample, "component")
    if not isinstance(component, str) or not component:
        return "invalid: component must be a non-empty string", "", 0, {}
    ts = sample_field(sample, "ts")
    if not isinstance(ts, int) or isinstance(ts, bool):
        return (
            f"invalid: ts must be an int of epoch milliseconds, not {type(ts).__name__}",
            component,
            0,
            {},
        )
    if not -TS_LIMIT_MS < ts < TS_LIMIT_MS:
        return f"invalid: ts {ts} is out of range for epoch milliseconds", component, 0, {}
    metrics = clean_metrics(sample_field(sample, "metrics"))
    if not metrics:
        return "invalid: no finite numeric metric in the sample", component, ts, {}
    return "", component, ts, metrics


def sample_field(sample: Mapping[str, Any], key: str) -> Any:
    """``sample.get(key)``; a dict's through the dict's own look-up (compiled: one C call),
    not a method call (s33)."""
    if type(sample) is dict:
        return sample.get(key)
    return sample.get(key)
