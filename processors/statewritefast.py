"""The VERSION 4 writer's shortcuts for types with a custom ``encode`` (s32, #14).

A type whose schema entry has a custom ``encode`` (:mod:`processors.stateschema`) is written,
once its first object passed the checked path, by calling that ``encode`` (a dict of every
field, most of them read as they are) and picking its values in the schema's order. For the
types below, which the steady state writes in every checkpoint, the values are made directly,
in the schema's order: the fields read as held by the type's one getter
(:func:`processors.stateschema.reader`), the few the ``encode`` changes made as it makes them.
The bytes are the same: each value is the one ``encode`` gives, or (the pending rows) a list
that msgpack packs as the writer packed the object it replaces (a deque ``[DEQUE, maxlen,
items...]``, a tuple ``[TUPLE, items...]``: their marks do not depend on the table).

:func:`fast_writer` gives a shortcut only while the schema entry's ``encode`` is the one it
stands for and the fields are those it was written for; else the general path is used.
Like the plain writer, a shortcut returns None where a field is missing (the checked path
then names it).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from processors.stateschema import TypeSchema, reader

__all__ = ["fast_writer"]

_Values = Callable[[Any], Any]


def fast_writer(tag: str, ts: TypeSchema) -> _Values | None:
    """The values of an object of type ``tag`` in the schema's order, as ``ts.encode``
    gives them, without its dict; None where there is no shortcut for this entry."""
    made = _made().get(tag)
    if made is None or ts.encode is not made[0] or tuple(ts.fields) != made[1]:
        return None
    return made[2]


def _made() -> dict[str, tuple[Any, tuple[str, ...], _Values]]:
    from processors import stateforms

    out: dict[str, tuple[Any, tuple[str, ...], _Values]] = {}
    for tag, encode, field, make in (
            ("PendingLabels", stateforms.encode_pending, "items", _pending_items),
            ("WindowState", stateforms.encode_windows, "open", _open_windows),
            ("BayesNet", stateforms.encode_bayesnet, "tables", _bayes_tables)):
        names = reader(tag)[0]
        out[tag] = (encode, names, _replacing(tag, names.index(field), make))
    for tag, made in (("MetricOutlook", _outlook()), ("PageHinkley", _page_hinkley())):
        if made is not None:
            out[tag] = made
    return out


def _replacing(tag: str, at: int, make: _Values) -> _Values:
    """The fields as held, but the one at ``at``, which ``make`` makes from the object."""
    read = reader(tag)[1]

    def values(obj: Any) -> list[Any] | None:
        try:
            out = list(read(obj))
        except AttributeError:
            return None
        out[at] = make(obj)
        return out
    return values


def _pending_items(q: Any) -> list[Any]:
    """``encode_pending``'s ``deque(unpack(row) for row in items)`` as the writer packs it:
    ``[DEQUE, None, [TUPLE, end, evidence, states], ...]``."""
    from processors.pendingrows import unpack
    from processors.statewrite import DEQUE_MARK, TUPLE_MARK

    return [DEQUE_MARK, None, *[[TUPLE_MARK, *unpack(row)] for row in q.items]]


def _open_windows(st: Any) -> dict[int, Any]:
    from processors.openwindow import window_maps

    return {start: window_maps(w) for start, w in st.open.items()}  # as encode_windows


def _bayes_tables(bn: Any) -> dict[str, Any]:
    from processors.bayesnet import halves

    return {n: [h.tolist() for h in halves(t)] for n, t in bn.tables.items()}  # as encode_bayesnet


def _outlook() -> tuple[Any, tuple[str, ...], _Values] | None:
    """``_encode_outlook``: the fields as held, refused (None: the checked path raises) for
    a forecaster that has no format."""
    from processors import stateschema
    from processors.snarimax import SnarimaxForecaster

    encode = getattr(stateschema, "_encode_outlook", None)
    if encode is None:
        return None
    names, read = reader("MetricOutlook")

    def values(o: Any) -> Any:
        try:
            return None if isinstance(o.forecaster, SnarimaxForecaster) else read(o)
        except AttributeError:
            return None
    return encode, names, values


_PH_FIELDS = ("min_instances", "delta", "threshold", "alpha", "mode", "mean_n", "mean",
              "sum_increase", "sum_decrease", "min_increase", "max_decrease", "drift_detected")


def _page_hinkley() -> tuple[Any, tuple[str, ...], _Values] | None:
    """``_encode_ph``: the parameters as held, the statistics as floats, the flag a bool."""
    from processors import stateschema

    encode = getattr(stateschema, "_encode_ph", None)
    if encode is None or getattr(stateschema, "_PH_PARAMS", None) != _PH_FIELDS[:5]:
        return None
    params = operator.attrgetter(*_PH_FIELDS[:5])

    def values(ph: Any) -> list[Any] | None:
        try:
            return [*params(ph), float(ph.n), float(ph.mean), float(ph.sum_increase),
                    float(ph.sum_decrease), float(ph.min_increase), float(ph.max_decrease),
                    bool(ph.drift_detected)]
        except AttributeError:
            return None
    return encode, _PH_FIELDS, values
