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
       object       name, not a class path, in :mod:`processors.stateschema`); the fields are
                    exactly the schema's
2      tuple        its items
3      deque        ``[maxlen, items]``
4      ndarray      ``[dtype, shape, raw little-endian bytes]``, dtype one of :data:`DTYPES`
6      enum         ``[tag, int]``
=====  ===========  ===========================================================================

Reading builds only the types :func:`schema` names, without calling their constructors, and
checks every field's name and outer type against it: a forged or corrupt snapshot is refused
with a :class:`~schemas.errors.ContractError` naming the type and field, and can never run code
(nothing is looked up by a name it carries). A type's field list is the contract. A field
added to a type gets a :class:`~processors.stateschema.Field` ``default``: older states are
read with it (the migration, applied as they are read), and the version stays; removing,
renaming or changing the meaning of a field raises :data:`VERSION`, with a migration from the
version before.
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
import threading
import zlib
from array import array
from collections import deque
from collections.abc import Callable
from enum import IntEnum
from typing import Any

import msgpack
import numpy as np

from processors.sharedparams import shared
from processors.stateschema import attributes, enums, reader, schema
from schemas.errors import ContractError

__all__ = ["DTYPES", "MAGIC", "MAX_STATE_BYTES", "VERSION", "attributes", "decode", "encode",
           "enums", "schema", "version_of"]

MAGIC = b"FWS"
VERSION = 3  # 1 and 2 were pickles (processors.legacy_state migrates them, offline only)
MAX_STATE_BYTES = 64 << 20  # a snapshot that inflates beyond this is refused (zip bomb)
# zlib level of a snapshot: 3 against 6 before 2026-12-05 (the 50 bench states: 8,715 against
# 8,191 bytes, +6.4 %, in 0.32 against 0.70 ms; compression was 8 % of the batch worker's CPU);
# a reader takes any level, so older checkpoints read as before
LEVEL = 3
DTYPES = ("<f4", "<f8", "<i8", "<u4", "|u1", "|b1")

_OBJ, _TUPLE, _DEQUE, _NDARRAY, _ENUM = 1, 2, 3, 4, 6


@functools.cache
def _tags() -> dict[type, str]:
    return {ts.cls: tag for tag, ts in schema().items()}


# -- writing ----------------------------------------------------------------------------------


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
    tag = _tags().get(type(obj))
    if tag is not None:
        data = _pack([tag, _fields_of(tag, obj)], packers, depth)
        _WRITERS[type(obj)] = _writer(tag)  # an object of the type (its entry) passed the checks
        return _ext_type(_OBJ, data)
    if type(obj) is deque:
        return _ext_type(_DEQUE, _pack([obj.maxlen, list(obj)], packers, depth))
    if type(obj) is array and obj.typecode in "qd":  # as the list it was before (#14)
        return obj.tolist()
    if type(obj) is np.ndarray:
        return _ext_type(_NDARRAY, _pack(_ndarray_head(obj), packers, depth))
    if isinstance(obj, IntEnum) and type(obj).__name__ in enums():
        return _ext_type(_ENUM, _pack([type(obj).__name__, int(obj)], packers, depth))
    raise ContractError(f"state: a {type(obj).__qualname__} is not in the state format")


def _ndarray_head(obj: np.ndarray) -> list[Any]:
    """``[dtype, shape, raw little-endian bytes]`` of an array (C order)."""
    dtype = obj.dtype
    if dtype.str not in DTYPES:  # a big-endian array is written little-endian
        dtype = dtype.newbyteorder("<") if dtype.byteorder == ">" else dtype
        if dtype.str not in DTYPES:
            raise ContractError(f"state: an array of dtype {obj.dtype} is not in the format")
        obj = np.ascontiguousarray(obj, dtype=dtype)
    return [dtype.str, list(obj.shape), obj.tobytes()]  # tobytes: C order, as it was


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


def _fields_of(tag: str, obj: Any) -> dict[str, Any]:
    ts = schema()[tag]
    out = ts.encode(obj) if ts.encode is not None else attributes(tag, obj)
    if out.keys() != ts.fields.keys():
        extra, missing = sorted(out.keys() - ts.fields.keys()), sorted(ts.fields.keys() - out)
        raise ContractError(
            f"state: {tag} has fields {extra} the format lacks and lacks {missing}: change "
            "processors/stateschema.py (and stateformat's VERSION) with the class"
        )
    return out


def encode(value: Any) -> bytes:
    """``value`` (state objects, plain values) in the format, with the header: what
    :func:`decode` reads back."""
    body = zlib.compress(_pack(value), LEVEL)
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
    of many maps) are interned; so are maps' int keys (an open window's timestamps, one per
    metric before: ~2.5 KB a component). Zeros and NaN are left as they are (``0.0 == -0.0``);
    bools are not ints here. Dicts keep their order."""
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
        items = [(_interned(k, memo), _interned(v, memo)) for k, v in value.items()]
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
    if ts.before is not None:
        ts.before(fields)
    cls: Any = ts.cls  # cls.__new__, not object.__new__: the same object here; a class compiled
    obj: Any = cls.__new__(cls)  # by mypyc refuses object.__new__ (s21, docs/throughput.md)
    setattr_ = object.__setattr__
    if ts.params is not None:  # one shared tuple of them (processors.sharedparams, #14)
        names: tuple[str, ...] = ts.params._fields
        setattr_(obj, "p", shared(ts.params(*[fields.pop(n) for n in names])))
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
