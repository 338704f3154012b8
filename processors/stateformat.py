"""The explicit, versioned format of a component's model state: no pickle, no class paths.

A snapshot (:meth:`processors.pipeline.Pipeline.snapshot`) is::

    bytes 0-3   magic b"FWS" and the format version (one byte, now 4; 1-2 were zlib'd pickles)
    the rest    version 4: zlib(msgpack(table) + msgpack(envelope)); version 3:
                zlib(msgpack(envelope)); envelope = {"component", "key", "state", "fleet"}

Inside, plain values are msgpack's own (``None``, bools, ints, floats, str, bytes, lists, maps
with str or int keys; a bytearray field is written as bytes); everything else is of a closed
set. Version 4 (s27, :mod:`processors.statewrite`, written now) writes each as an array whose
first item is a mark (a msgpack extension) and then its values in place, in one pass:

=====  ===========  ===========================================================================
code   what         version 4: the array after the mark (version 3: the extension's payload)
=====  ===========  ===========================================================================
1      a state      the fields' values in the order of the table's entry the mark's payload
       object       (1-2 bytes) indexes; the table, ``[[tag, [field, ...]], ...]``, names each
                    type once a snapshot (v3: ``[tag, {field: value}]`` packed apart).
                    ``tag`` names a type of :func:`schema` (a stable name, not a class path,
                    in :mod:`processors.stateschema`); the fields are exactly the schema's
2      tuple        its items
3      deque        ``maxlen, items...`` (v3: ``[maxlen, items]``)
4      ndarray      ``dtype, shape, raw little-endian bytes``, dtype one of :data:`DTYPES`
6      enum         ``tag, int``
=====  ===========  ===========================================================================

Version 3 (:mod:`processors.statewrite3`, s17-s26) is still read: a checkpoint written before
s27 restores to the same state. It packed each object apart, with its field names.

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
import zlib
from array import array
from collections import deque
from typing import Any

import msgpack
import numpy as np

from processors.sharedparams import shared
from processors.stateschema import attributes, enums, schema
from processors.statewrite import (
    DEQUE,
    DTYPES,
    ENUM,
    LEVEL,
    MAGIC,
    NDARRAY,
    OBJ,
    TUPLE,
    VERSION,
    encode,
)
from schemas.errors import ContractError

__all__ = ["DTYPES", "LEVEL", "MAGIC", "MAX_STATE_BYTES", "VERSION", "attributes", "decode",
           "encode", "enums", "schema", "version_of"]

# VERSION (4, processors.statewrite) and 3 (processors.statewrite3) are read; 1 and 2 were
# pickles (processors.legacy_state migrates them, offline only)
MAX_STATE_BYTES = 64 << 20  # a snapshot that inflates beyond this is refused (zip bomb)
_OBJ, _TUPLE, _DEQUE, _NDARRAY, _ENUM = OBJ, TUPLE, DEQUE, NDARRAY, ENUM


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
    if version < 3:
        raise ContractError(f"state: format version {version} has no migration here")
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(blob[4:], MAX_STATE_BYTES)
        if inflater.unconsumed_tail:
            raise ContractError(f"state: inflates beyond {MAX_STATE_BYTES} bytes")
        if not inflater.eof:
            raise ContractError("state: truncated (the compressed stream does not end)")
        if version == 3:
            return _unpack(raw, version, ({}, {}))
        return _Reader4(({}, {})).read(raw)
    except ContractError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, zlib.error, RecursionError,
            msgpack.UnpackException, msgpack.ExtraData, msgpack.OutOfData) as exc:
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


class _Mark:
    """What a VERSION 4 mark reads as until its array is built (``index``: an object's type
    in the table)."""

    __slots__ = ("code", "index")

    def __init__(self, code: int, index: int) -> None:
        self.code, self.index = code, index


class _Reader4:
    """A VERSION 4 body (:mod:`processors.statewrite`): the table, then the value, whose
    arrays that start with a mark are built bottom-up by msgpack's ``list_hook``."""

    def __init__(self, memo: _Memo) -> None:
        self.memo = memo
        self.table: list[tuple[str, list[str]]] = []
        self.marks: dict[bytes, _Mark] = {}
        self.loose = 0  # marks read and not yet at the head of a built array

    def read(self, raw: bytes) -> Any:
        unpacker = msgpack.Unpacker(ext_hook=self.ext, list_hook=self.built, raw=False,
                                    strict_map_key=False, use_list=True,
                                    max_buffer_size=max(len(raw), 1))
        unpacker.feed(raw)
        table = unpacker.unpack()
        if not (type(table) is list and all(
                type(t) is list and len(t) == 2 and type(t[0]) is str and type(t[1]) is list
                and all(type(n) is str for n in t[1]) for t in table)):
            raise ContractError("state: the type table is not a list of [tag, [fields]]")
        self.table = [(t[0], t[1]) for t in table]
        value = unpacker.unpack()
        if unpacker.tell() != len(raw):
            raise ContractError("state: extra data after the snapshot")
        if self.loose:
            raise ContractError(f"state: {self.loose} marks out of place")
        return value

    def ext(self, code: int, data: bytes) -> _Mark:
        mark = self.marks.get(data) if code == _OBJ else None
        if mark is None:
            if code == _OBJ and 1 <= len(data) <= 2:
                mark = self.marks[data] = _Mark(code, int.from_bytes(data, "big"))
            elif code in (_TUPLE, _DEQUE, _NDARRAY, _ENUM) and not data:
                mark = _Mark(code, 0)
            else:
                raise ContractError(f"state: a malformed mark (code {code})")
        self.loose += 1
        return mark

    def built(self, items: list[Any]) -> Any:
        head = items[0] if items else None
        if type(head) is not _Mark:
            return items
        self.loose -= 1
        code, memo = head.code, self.memo
        if code == _OBJ:
            if head.index >= len(self.table):
                raise ContractError(f"state: type {head.index} is not in the table")
            tag, names = self.table[head.index]
            if len(items) - 1 != len(names):
                raise ContractError(f"state: {tag} with {len(items) - 1} values for "
                                    f"{len(names)} fields")
            return _build(tag, _interned(dict(zip(names, items[1:])), memo), 4)  # noqa: B905
        if code == _TUPLE:
            return tuple(_interned(items[1:], memo))
        if code == _DEQUE and len(items) >= 2 and (items[1] is None or type(items[1]) is int):
            return deque(_interned(items[2:], memo), items[1])
        if code == _NDARRAY and len(items) == 4:
            return _array(items[1], items[2], items[3])
        if code == _ENUM and len(items) == 3:
            kind = enums().get(items[1]) if isinstance(items[1], str) else None
            if kind is not None and type(items[2]) is int:
                return kind(items[2])
        raise ContractError(f"state: a malformed value (mark {code})")


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
