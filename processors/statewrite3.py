"""The VERSION 3 state writer (s17-s26), kept so that tests can write VERSION 3 snapshots and
check that they still restore (:func:`processors.stateformat.decode` reads 3 and 4), and so
that benches can compare the two writers. A process writes VERSION 4
(:mod:`processors.statewrite`).

VERSION 3 packs each state object as a msgpack extension whose payload is ``[tag, {field:
value}]`` packed apart, by one packer per depth of nesting (an object's bytes are copied once
per level), through msgpack's ``default`` hook: the format is in
:mod:`processors.stateformat`'s docstring.
"""

from __future__ import annotations

import functools
import threading
import zlib
from array import array
from collections import deque
from collections.abc import Callable
from enum import IntEnum
from typing import Any

import msgpack
import numpy as np

from processors.stateschema import enums, reader, schema
from processors.statewrite import (
    DEQUE,
    ENUM,
    LEVEL,
    MAGIC,
    NDARRAY,
    OBJ,
    TUPLE,
    fields_of,
    ndarray_head,
    tags,
)
from schemas.errors import ContractError

__all__ = ["VERSION", "encode"]

VERSION = 3
_OBJ, _TUPLE, _DEQUE, _NDARRAY, _ENUM = OBJ, TUPLE, DEQUE, NDARRAY, ENUM

_LOCAL = threading.local()  # this thread's packers, one per depth of nesting


def _packer(packers: list[Any], depth: int) -> Any:
    """The packer of nesting ``depth`` (an object inside an object is packed apart, as an
    extension's bytes): made once per thread and depth, not once per object (s17: a new
    ``msgpack.Packer`` for each of the ~150 objects of a snapshot was a fifth of its cost);
    a packer is reset after each ``pack``, an exception included, so the bytes are those of
    ``msgpack.packb``."""
    while len(packers) <= depth:
        packers.append(msgpack.Packer(
            default=functools.partial(_default, packers, len(packers) + 1),
            strict_types=True, use_bin_type=True))
    return packers[depth]


def _pack(value: Any, packers: list[Any] | None = None, depth: int = 0) -> bytes:
    if packers is None:
        packers = getattr(_LOCAL, "packers", None)
        if packers is None:
            packers = _LOCAL.packers = []
    out: bytes = _packer(packers, depth).pack(value)
    return out


def _ext_type(code: int, data: bytes) -> msgpack.ExtType:
    """``msgpack.ExtType(code, data)`` without its argument checks (a third of a microsecond
    against one; ~150 a snapshot): the codes and bytes here are always of those types."""
    out: msgpack.ExtType = tuple.__new__(msgpack.ExtType, (code, data))
    return out


# a type's writer once its first object was written by the checked path (s19): the head of
# its extension's payload (``[tag,`` packed) and a function of its fields, None when they are
# not the schema's (the checked path then names what differs). The same bytes, without the
# dozen calls a type's lookups, checks and list cost each of a snapshot's ~170 objects. A
# writer holds the schema entry it was made from and is used only while that is the entry.
_Writer = tuple[bytes, Callable[[Any], dict[str, Any] | None], str, Any]
_WRITERS: dict[type, _Writer] = {}


def _default(packers: list[Any], depth: int, obj: Any) -> msgpack.ExtType:
    writer = _WRITERS.get(type(obj))
    if writer is not None and schema().get(writer[2]) is writer[3]:
        fields = writer[1](obj)
        if fields is not None:
            packer = packers[depth] if depth < len(packers) else _packer(packers, depth)
            return _ext_type(_OBJ, writer[0] + packer.pack(fields))
    if type(obj) is tuple:  # the most frequent after the objects (~35 a snapshot)
        packer = packers[depth] if depth < len(packers) else _packer(packers, depth)
        return _ext_type(_TUPLE, packer.pack(list(obj)))
    tag = tags().get(type(obj))
    if tag is not None:
        data = _pack([tag, fields_of(tag, obj)], packers, depth)
        _WRITERS[type(obj)] = _writer(tag)  # an object of the type (its entry) passed the checks
        return _ext_type(_OBJ, data)
    if type(obj) is deque:
        return _ext_type(_DEQUE, _pack([obj.maxlen, list(obj)], packers, depth))
    if type(obj) is array and obj.typecode in "qd":  # as the list it was before (#14)
        return obj.tolist()
    if type(obj) is np.ndarray:
        return _ext_type(_NDARRAY, _pack(ndarray_head(obj), packers, depth))
    if isinstance(obj, IntEnum) and type(obj).__name__ in enums():
        return _ext_type(_ENUM, _pack([type(obj).__name__, int(obj)], packers, depth))
    raise ContractError(f"state: a {type(obj).__qualname__} is not in the state format")


def _writer(tag: str) -> _Writer:
    """The fields of an object of type ``tag`` as :func:`_fields_of` gives them (None where
    it would raise: a field missing, or a custom writer's keys not the schema's)."""
    ts = schema()[tag]
    head = msgpack.packb([tag, None], use_bin_type=True)[:-1]  # the list's head and the tag
    if ts.encode is not None:
        custom, keys = ts.encode, ts.fields.keys()

        def written(obj: Any) -> dict[str, Any] | None:
            out = custom(obj)
            return out if out.keys() == keys else None
        return head, written, tag, ts
    names, read = reader(tag)

    def plain(obj: Any) -> dict[str, Any] | None:
        try:  # the schema's names, in order; ``read`` gives one value a name (reader()):
            return {n: v for n, v in zip(names, read(obj))}  # noqa: B905 (s24: compiled, a loop)
        except AttributeError:
            return None
    return head, plain, tag, ts


def encode(value: Any) -> bytes:
    """``value`` in format VERSION 3, with the header (what s26's ``stateformat.encode``
    wrote, byte for byte)."""
    body = zlib.compress(_pack(value), LEVEL)
    return MAGIC + bytes([VERSION]) + body
