"""A scored window waiting for its label, held compactly (issue #14: memory per component).

:class:`~processors.calibration.PendingLabels` keeps, per component, every scored window of the
last horizon (16 at the defaults) with the evidence it was scored on: the combiner's inputs
(``breach``, ``warn``, ... : floats) and the metric states of the Bayes net (small ints). As
``(end_ms, dict, dict)`` that was ~700 bytes a window, 11 KB a component. :func:`pack` keeps
the names once (one pair of tuples per distinct lists of names, shared by every window and
component) and the values in one ``bytes``: the evidence as doubles, then the states as
bytes; ~150 bytes. :func:`unpack` gives back the two dicts, equal key for key, in the same
order, with the same values bit for bit (a double round-trips its 8 bytes exactly; states are
ints 0..255), so what is learnt from them is unchanged. Evidence that does not fit (a value
that is not a float, a state out of 0..255) is kept as the dicts themselves.

>>> row = pack(60_000, {"breach": 0.25, "warn": 0.0}, {"cpu.util": 7, "context": 0})
>>> unpack(row)
(60000, {'breach': 0.25, 'warn': 0.0}, {'cpu.util': 7, 'context': 0})
>>> unpack(pack(0, {"breach": 1}, {}))[1]  # an int stays an int: kept as it came
{'breach': 1}
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_SHARED_NAMES", "Row", "pack", "unpack"]

Row = tuple[Any, ...]  # (end_ms, (names, state names), bytes) or (end_ms, dict, dict)
MAX_SHARED_NAMES = 4096  # distinct name lists shared; past that (odd input) each row has its own

_NAMES: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[tuple[str, ...], tuple[str, ...]]]
_NAMES = {}


def _shared(names: tuple[tuple[str, ...], tuple[str, ...]]
            ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    got = _NAMES.get(names)
    if got is not None:
        return got
    if len(_NAMES) < MAX_SHARED_NAMES:
        _NAMES[names] = names
    return names


def pack(end_ms: int, base: Mapping[str, float], states: Mapping[str, int]) -> Row:
    """The window ending at ``end_ms`` and its evidence, compactly (copies: later changes to
    ``base`` or ``states`` do not reach it)."""
    values = tuple(base.values())
    codes = tuple(states.values())
    if all(type(v) is float for v in values) and all(
        type(c) is int and 0 <= c < 256 for c in codes
    ):
        return (end_ms, _shared((tuple(base), tuple(states))),
                array("d", values).tobytes() + bytes(codes))
    return (end_ms, dict(base), dict(states))


def unpack(row: Row) -> tuple[int, dict[str, float], dict[str, int]]:
    """``(end_ms, base, states)`` as they were given to :func:`pack` (new dicts)."""
    end_ms, names, blob = row
    if type(blob) is not bytes:
        return end_ms, dict(names), dict(blob)
    base_names, state_names = names
    cut = 8 * len(base_names)
    values = array("d")
    values.frombytes(blob[:cut])
    return end_ms, dict(zip(base_names, values, strict=True)), dict(
        zip(state_names, blob[cut:], strict=True))
