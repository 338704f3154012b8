"""The state writer, format VERSION 4 (s27): one msgpack pass, no object packed apart.

A snapshot is ``MAGIC``, the version byte, then ``zlib(msgpack(table) + msgpack(value))``:

* ``table``: ``[[tag, [field, ...]], ...]``, the types this snapshot holds, each once, in the
  order first met, with the schema's field names in order;
* ``value``: plain values as msgpack's own; an object is an array ``[mark, values...]`` whose
  first item is a mark (a msgpack extension, :data:`OBJ` with the type's index in ``table``
  as 1-2 big-endian bytes; :data:`TUPLE`, :data:`DEQUE`, :data:`NDARRAY`, :data:`ENUM` with
  no payload), then the object's values in place: a state object its fields in the table's
  order; a tuple its items; a deque ``maxlen, items...``; an ndarray ``dtype, shape, raw
  little-endian bytes``; an enum ``name, int``.

VERSION 3 (:mod:`processors.statewrite3`) packed every object apart as an extension (its
bytes copied once per level of nesting) with its field names, through a packer per depth;
here msgpack's ``default`` hook returns the array and the one packer packs it in place.
Fields are as VERSION 3 wrote them (the schema's ``encode``), except the types of
:data:`AS_HELD`: a novelty model's seen sets are written in the form they are held in
(compact or bitmap, :mod:`processors.seenset`), not turned into the bitmap.
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

from processors.stateschema import attributes, enums, reader, schema
from schemas.errors import ContractError

__all__ = ["DEQUE", "DEQUE_MARK", "DTYPES", "ENUM", "LEVEL", "MAGIC", "NDARRAY", "OBJ", "TUPLE",
           "TUPLE_MARK", "VERSION", "Shared", "encode", "encode_map", "fields_of", "ndarray_head",
           "tags"]

MAGIC = b"FWS"
VERSION = 4
# zlib level of a snapshot: 3 against 6 before 2026-12-05 (the 50 bench states: 8,715 against
# 8,191 bytes, +6.4 %, in 0.32 against 0.70 ms; compression was 8 % of the batch worker's CPU);
# a reader takes any level, so older checkpoints read as before
LEVEL = 3
DTYPES = ("<f4", "<f8", "<i8", "<u4", "|u1", "|b1")
OBJ, TUPLE, DEQUE, NDARRAY, ENUM = 1, 2, 3, 4, 6
AS_HELD = frozenset({"ContextNovelty"})  # written as held, not by the schema's ``encode``

_TUPLE_MARK = msgpack.ExtType(TUPLE, b"")
_DEQUE_MARK = msgpack.ExtType(DEQUE, b"")
_NDARRAY_MARK = msgpack.ExtType(NDARRAY, b"")
_ENUM_MARK = msgpack.ExtType(ENUM, b"")
TUPLE_MARK, DEQUE_MARK = _TUPLE_MARK, _DEQUE_MARK  # for processors.statewritefast
_OBJ_MARKS = tuple(msgpack.ExtType(OBJ, bytes([i])) for i in range(256))  # the first 256 types


@functools.cache
def tags() -> dict[type, str]:
    return {ts.cls: tag for tag, ts in schema().items()}


def ndarray_head(obj: np.ndarray) -> list[Any]:
    """``[dtype, shape, raw little-endian bytes]`` of an array (C order)."""
    dtype = obj.dtype
    if dtype.str not in DTYPES:  # a big-endian array is written little-endian
        dtype = dtype.newbyteorder("<") if dtype.byteorder == ">" else dtype
        if dtype.str not in DTYPES:
            raise ContractError(f"state: an array of dtype {obj.dtype} is not in the format")
        obj = np.ascontiguousarray(obj, dtype=dtype)
    return [dtype.str, list(obj.shape), obj.tobytes()]  # tobytes: C order, as it was


def fields_of(tag: str, obj: Any, held: bool = False) -> dict[str, Any]:
    """The fields of ``obj`` by the checked path: the schema's ``encode`` (or, ``held``, the
    attributes as held), their names compared with the schema's."""
    ts = schema()[tag]
    out = ts.encode(obj) if ts.encode is not None and not held else attributes(tag, obj)
    if out.keys() != ts.fields.keys():
        extra, missing = sorted(out.keys() - ts.fields.keys()), sorted(ts.fields.keys() - out)
        raise ContractError(
            f"state: {tag} has fields {extra} the format lacks and lacks {missing}: change "
            "processors/stateschema.py (and stateformat's VERSION) with the class"
        )
    return out


class _Snapshot:
    """A thread's packer and the table of the snapshot it is writing."""

    __slots__ = ("known", "marks", "packer", "table")

    def __init__(self) -> None:
        self.marks: dict[type, msgpack.ExtType] = {}
        # the types this snapshot wrote by their writer: mark, values (s32: one look-up a call)
        self.known: dict[type, tuple[msgpack.ExtType, Callable[[Any], Any]]] = {}
        self.table: list[list[Any]] = []
        self.packer = msgpack.Packer(default=functools.partial(_default, self),
                                     strict_types=True, use_bin_type=True)


_LOCAL = threading.local()

# a type's writer once its first object passed the checked path (as VERSION 3's, s19): its
# tag, the schema entry it was made from (used only while that is the entry) and a function
# of its values in the schema's order, None when they are not the schema's fields
_Writer = tuple[str, Any, Callable[[Any], Any]]
_WRITERS: dict[type, _Writer] = {}


def _mark(snap: _Snapshot, cls: type, tag: str) -> msgpack.ExtType:
    """The mark of ``cls`` in this snapshot: its index in the table, added when first met."""
    index = len(snap.table)
    snap.table.append([tag, list(schema()[tag].fields)])  # the entry in use (tests swap one)
    mark = _OBJ_MARKS[index] if index < 256 else msgpack.ExtType(OBJ, index.to_bytes(2, "big"))
    snap.marks[cls] = mark
    return mark


def _default(snap: _Snapshot, obj: Any) -> list[Any]:
    cls = type(obj)
    known = snap.known.get(cls)  # its writer checked against the schema in this snapshot
    if known is not None:
        values = known[1](obj)
        if values is not None:
            return [known[0], *values]
    else:
        writer = _WRITERS.get(cls)
        if writer is not None and schema().get(writer[0]) is writer[1]:
            values = writer[2](obj)
            if values is not None:
                mark = snap.marks.get(cls)
                if mark is None:
                    mark = _mark(snap, cls, writer[0])
                snap.known[cls] = (mark, writer[2])
                return [mark, *values]
    if cls is tuple:  # the most frequent after the objects (~35 a snapshot)
        return [_TUPLE_MARK, *obj]
    tag = tags().get(cls)
    if tag is not None:
        fields = fields_of(tag, obj, tag in AS_HELD)
        snap.known.pop(cls, None)
        _WRITERS[cls] = _writer(tag)  # an object of the type (its entry) passed the checks
        mark = snap.marks.get(cls)
        return [mark if mark is not None else _mark(snap, cls, tag),
                *[fields[n] for n in schema()[tag].fields]]
    if cls is deque:
        return [_DEQUE_MARK, obj.maxlen, *obj]
    if cls is array and obj.typecode in "qd":  # as the list it was before (#14)
        out: list[Any] = obj.tolist()
        return out
    if cls is np.ndarray:
        return [_NDARRAY_MARK, *ndarray_head(obj)]
    if isinstance(obj, IntEnum) and cls.__name__ in enums():
        return [_ENUM_MARK, cls.__name__, int(obj)]
    raise ContractError(f"state: a {cls.__qualname__} is not in the state format")


def _writer(tag: str) -> _Writer:
    """The values of an object of type ``tag`` in the schema's order, as :func:`fields_of`
    gives them (None where it would raise: a field missing, a custom writer's keys not the
    schema's)."""
    from processors.statewritefast import fast_writer

    ts = schema()[tag]
    names = tuple(ts.fields)
    fast = fast_writer(tag, ts) if ts.encode is not None and tag not in AS_HELD else None
    if fast is not None:  # the same values without the encode's dict (s32)
        return tag, ts, fast
    if ts.encode is not None and tag not in AS_HELD:
        custom, keys = ts.encode, ts.fields.keys()

        def written(obj: Any) -> list[Any] | None:
            out = custom(obj)
            return [out[n] for n in names] if out.keys() == keys else None
        return tag, ts, written
    read = reader(tag)[1]  # the schema's names, in order (reader())

    def plain(obj: Any) -> Any:
        try:
            return read(obj)
        except AttributeError:
            return None
    return tag, ts, plain


class Shared:
    """A value written into several snapshots while nothing changes it (the fleet's risk
    model and the pipeline's key in one round of checkpoints, s31), packed once for each
    table it is met under. Its bytes hang only on the marks of the types the snapshot met
    before it (the packer keeps nothing else between values), so under equal marks they are
    equal, and so are the entries its own new types add to the table (kept, added again)."""

    __slots__ = ("packed", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        # the marks met before it (type, mark; in order) -> its bytes, the table entries added
        self.packed: dict[tuple[Any, ...], tuple[bytes, list[tuple[type, str]]]] = {}


def encode(value: Any) -> bytes:
    """``value`` (state objects, plain values) in format VERSION 4, with the header."""
    return _encode(value, False)


def encode_map(value: dict[str, Any]) -> bytes:
    """:func:`encode` of ``value``, a dict, byte for byte as if each :class:`Shared` among
    its values were that one's ``value`` (packed once per table it is met under)."""
    return _encode(value, True)


def _encode(value: Any, shared: bool) -> bytes:
    snap: _Snapshot | None = getattr(_LOCAL, "snap", None)
    if snap is None:
        snap = _LOCAL.snap = _Snapshot()
    try:  # msgpack resets the packer on an exception
        body = _map(snap, value) if shared else snap.packer.pack(value)
        raw = snap.packer.pack(snap.table) + body
    finally:  # nothing of a snapshot is kept after it
        snap.marks.clear()
        snap.known.clear()
        snap.table.clear()
    return MAGIC + bytes([VERSION]) + zlib.compress(raw, LEVEL)


def _map(snap: _Snapshot, value: dict[str, Any]) -> bytes:
    """The bytes of a dict (a map packs as its header, then each key and value in order),
    a :class:`Shared` value's from its ``packed`` where it was packed under the same marks."""
    if type(value) is not dict:
        raise ContractError(f"state: encode_map takes a dict, not {type(value).__name__}")
    pack = snap.packer
    parts = [pack.pack_map_header(len(value))]
    for k, v in value.items():
        parts.append(pack.pack(k))
        parts.append(_shared(snap, v) if type(v) is Shared else pack.pack(v))
    return b"".join(parts)


def _shared(snap: _Snapshot, shared: Shared) -> bytes:
    key = tuple(snap.marks.items())
    got = shared.packed.get(key)
    if got is None:
        packed = snap.packer.pack(shared.value)
        added = [(cls, str(snap.table[len(key) + i][0]))
                 for i, cls in enumerate(list(snap.marks)[len(key):])]
        got = shared.packed[key] = (packed, added)
    else:
        for cls, tag in got[1]:
            _mark(snap, cls, tag)
    return got[0]
