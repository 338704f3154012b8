"""A scored window waiting for its label, held compactly (issue #14: memory per component).

:class:`~processors.calibration.PendingLabels` keeps, per component, every scored window of the
last horizon (16 at the defaults) with the evidence it was scored on: the combiner's inputs
(``breach``, ``warn``, ... : floats) and the metric states of the Bayes net (small ints). As
``(end_ms, dict, dict)`` that was ~700 bytes a window, 11 KB a component. :func:`pack` makes
one ``bytes`` of it: the window's end, the number of its names (one pair of tuples per
distinct lists of names, kept once for every window and component), the evidence as doubles,
then the states as bytes; ~120 bytes. :func:`unpack` gives back the two dicts, equal key for
key, in the same order, with the same values bit for bit (a double round-trips its 8 bytes
exactly; states are ints 0..255), so what is learnt from them is unchanged. Evidence that does
not fit (a value that is not a float, a state out of 0..255, an end past 64 bits, past
:data:`MAX_SHARED_NAMES` lists of names) is kept as ``(end_ms, dict, dict)``.

>>> row = pack(60_000, {"breach": 0.25, "warn": 0.0}, {"cpu.util": 7, "context": 0})
>>> type(row), end_of(row)
(<class 'bytes'>, 60000)
>>> unpack(row)
(60000, {'breach': 0.25, 'warn': 0.0}, {'cpu.util': 7, 'context': 0})
>>> unpack(pack(0, {"breach": 1}, {}))[1]  # an int stays an int: kept as it came
{'breach': 1}
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_SHARED_NAMES", "Row", "end_of", "pack", "unpack"]

Row = bytes | tuple[Any, ...]  # compact bytes, or (end_ms, dict, dict) for odd evidence
MAX_SHARED_NAMES = 4096  # distinct name lists shared; past that (odd input) rows keep dicts

_Names = tuple[tuple[str, ...], tuple[str, ...]]
_INDEX: dict[_Names, int] = {}
_NAMES: list[_Names] = []
_HEAD = struct.Struct("=qH")  # end_ms, the number of the names; in memory only (native order)
# a whole row of each list of names (by its number): head, doubles, states, read in one call
_ROWS: list[struct.Struct] = []


def _number(names: _Names) -> int | None:
    got = _INDEX.get(names)
    if got is None and len(_NAMES) < MAX_SHARED_NAMES:
        got = _INDEX[names] = len(_NAMES)
        _NAMES.append(names)
        _ROWS.append(struct.Struct(f"=qH{len(names[0])}d{len(names[1])}B"))
    return got


def pack(end_ms: int, base: Mapping[str, float], states: Mapping[str, int]) -> Row:
    """The window ending at ``end_ms`` and its evidence, compactly (copies: later changes to
    ``base`` or ``states`` do not reach it)."""
    values = tuple(base.values())
    codes = tuple(states.values())
    if type(end_ms) is int and -(2**63) <= end_ms < 2**63 and all(
        type(v) is float for v in values
    ) and all(type(c) is int and 0 <= c < 256 for c in codes):
        number = _number((tuple(base), tuple(states)))
        if number is not None:
            return _HEAD.pack(end_ms, number) + array("d", values).tobytes() + bytes(codes)
    return (end_ms, dict(base), dict(states))


def end_of(row: Row) -> int:
    """The end of the window of ``row``."""
    if type(row) is bytes:
        end: int = _HEAD.unpack_from(row)[0]
        return end
    odd: int = row[0]
    return odd


def unpack(row: Row) -> tuple[int, dict[str, float], dict[str, int]]:
    """``(end_ms, base, states)`` as they were given to :func:`pack` (new dicts)."""
    if isinstance(row, tuple):
        end_ms, base, states = row
        return end_ms, dict(base), dict(states)
    number: int = _HEAD.unpack_from(row)[1]
    base_names, state_names = _NAMES[number]
    # one struct call for the row (s32: was an array and two zips); the same doubles (8 bytes,
    # native order, as array('d') read them) and the same ints 0..255 as the bytes gave
    got = _ROWS[number].unpack(row)
    nb = len(base_names) + 2
    return got[0], {n: got[i] for i, n in enumerate(base_names, 2)}, {
        n: got[i] for i, n in enumerate(state_names, nb)}
