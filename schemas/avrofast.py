"""A fast path for the worker's hot outputs: ``HealthSignal`` and ``RiskScore`` bodies (#14).

The worker encodes a ``HealthSignal`` on each change of a rule's status and each heartbeat,
and a ``RiskScore`` (24 forecasts) per closed window; fastavro's writer took ~10 % of the
batch worker's main thread (docs/throughput.md, s16). These two schemas are fixed
(``schemas/avro/*.avsc``), so their Avro binary bodies can be written directly: strings as a
zigzag-varint length and UTF-8, longs and ints as zigzag varints, doubles as 8 little-endian
bytes, booleans as one byte, an enum as its symbol's index, a union as its branch's index
and the value, an array or map as one block (its count, the items, a zero count; an empty
one is a zero count).

Only records of the exact form take this path: strings, longs and ints as ``str`` and
``int`` (within the type's range), booleans as ``bool``, a union's double as ``float`` (or
``None``), records, arrays and maps as ``dict`` and ``list``. Any other record (a missing
field, a ``numpy`` integer, a ``float`` for a long, ``1`` for a boolean, an unknown enum
symbol, a string that is not valid UTF-8) raises :class:`Unfit`, and the caller encodes it
with fastavro, which then accepts, coerces or refuses it in its own ways. A double outside a
union is packed from any value ``struct`` takes (``float``, ``int``, ``bool``, numpy scalars:
the C double of its ``__float__``, as fastavro writes it). So, whenever this path answers,
the bytes are fastavro's, bit for bit (``tests/unit/test_avrofast.py`` compares them on the
bench's outputs and on generated records with odd values and missing fields).

>>> import io, fastavro
>>> from schemas.codec import Codec
>>> rec = {"component": "web-1", "ts": 1_700_000_000_000, "status": "WARN", "metric": "cpu",
...        "value": 0.91, "threshold": 0.9, "rule": "cpu.high", "heartbeat": False}
>>> buf = io.BytesIO()
>>> fastavro.schemaless_writer(buf, Codec().schema("HealthSignal").wire, rec)
>>> health_signal(rec) == buf.getvalue()
True
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ENCODERS", "Unfit", "health_signal", "risk_score", "zigzag_long"]

_D = struct.Struct("<d").pack
_DDD = struct.Struct("<ddd").pack
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1
_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1
_STATUS = {"PASS": b"\x00", "WARN": b"\x02", "FAIL": b"\x04"}  # HealthStatus symbols' indexes
_NULL, _SECOND, _FALSE, _TRUE, _END = b"\x00", b"\x02", b"\x00", b"\x01", b"\x00"
_CACHE_MAX = 4096  # strings (and forecast heads) remembered; the cache is emptied past this

_strings: dict[str, bytes] = {}
_heads: dict[tuple[str, int], bytes] = {}


class Unfit(Exception):
    """The record is not of the exact form this path writes: encode it with fastavro."""


def zigzag_long(n: int) -> bytes:
    """Avro's encoding of a long (zig-zag, then base-128 varint, 7 bits a byte, low first);
    ``n`` within the longs (the shipper's batches use it too)."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def _long(n: object) -> bytes:
    if type(n) is not int or not _LONG_MIN <= n <= _LONG_MAX:
        raise Unfit
    return zigzag_long(n)


def _int(n: object) -> bytes:
    if type(n) is not int or not _INT_MIN <= n <= _INT_MAX:
        raise Unfit
    return zigzag_long(n)


def _str(s: object) -> bytes:
    got = _strings.get(s) if type(s) is str else None
    if got is not None:
        return got
    if type(s) is not str:
        raise Unfit
    try:
        raw = s.encode()
    except UnicodeEncodeError as exc:
        raise Unfit from exc
    got = zigzag_long(len(raw)) + raw
    if len(_strings) >= _CACHE_MAX:
        _strings.clear()
    _strings[s] = got
    return got


def _double(x: object) -> bytes:
    """A double in a union (``threshold``, the breach): a ``float`` only (fastavro picks a
    union's branch by the value's type, and refuses a ``bool``). Elsewhere a double is packed
    as fastavro writes it, by the value's ``__float__`` (``int``, ``bool``, numpy scalars);
    what ``struct`` refuses (a ``str``, an ``int`` past the doubles) is left to fastavro."""
    if type(x) is not float:
        raise Unfit
    return _D(x)


def health_signal(r: Mapping[str, Any]) -> bytes:
    """The Avro body of one ``HealthSignal`` record (raises :class:`Unfit`, see above)."""
    try:
        status = _STATUS[r["status"]] if type(r["status"]) is str else None
        threshold, beat = r["threshold"], r["heartbeat"]
        parts = [_str(r["component"]), _long(r["ts"]), status, _str(r["metric"]),
                 _D(r["value"]),
                 _NULL if threshold is None else _SECOND + _double(threshold),
                 _str(r["rule"])]
    except (KeyError, TypeError, OverflowError, struct.error) as exc:
        raise Unfit from exc
    if status is None or (beat is not True and beat is not False):
        raise Unfit
    parts.append(_TRUE if beat else _FALSE)
    return b"".join(parts)  # type: ignore[arg-type]  # status checked above


def _forecasts(items: object) -> list[bytes]:
    if type(items) is not list:
        raise Unfit
    if not items:
        return [_END]
    parts = [_long(len(items))]
    add, heads = parts.append, _heads
    for f in items:
        if type(f) is not dict:
            raise Unfit
        metric, horizon = f["metric"], f["horizon_s"]
        if type(metric) is not str or type(horizon) is not int:
            raise Unfit
        head = heads.get((metric, horizon))
        if head is None:
            head = _str(metric) + _int(horizon)
            if len(heads) >= _CACHE_MAX:
                heads.clear()
            heads[(metric, horizon)] = head
        add(head)
        add(_DDD(f["mean"], f["lower"], f["upper"]))
    parts.append(_END)
    return parts


def _contributors(shares: object) -> list[bytes]:
    if type(shares) is not dict:
        raise Unfit
    if not shares:
        return [_END]
    parts = [_long(len(shares))]
    for k, v in shares.items():
        parts.append(_str(k))
        parts.append(_D(v))
    parts.append(_END)
    return parts


def _breach(b: object) -> list[bytes]:
    if b is None:
        return [_NULL]
    if type(b) is not dict:
        raise Unfit
    return [_SECOND, _str(b["metric"]), _double(b["threshold"]), _double(b["eta_s"]),
            _double(b["probability"])]


def _act(a: object) -> list[bytes]:
    if a is None:
        return [_NULL]
    if type(a) is not dict:
        raise Unfit
    return [_SECOND, _double(a["risk"]), _double(a["anomaly"])]


def _alarm(a: object) -> list[bytes]:
    if a is None:
        return [_NULL]
    if a is not True and a is not False:
        raise Unfit
    return [_SECOND, _TRUE if a else _FALSE]


def risk_score(r: Mapping[str, Any]) -> bytes:
    """The Avro body of one ``RiskScore`` record (raises :class:`Unfit`, see above)."""
    try:
        model = r["model"]
        if type(model) is not dict:
            raise Unfit
        warm = model["warm"]
        if warm is not True and warm is not False:
            raise Unfit
        parts = [_str(r["component"]), _long(r["ts"]), _D(r["risk"]), _D(r["anomaly"]),
                 _int(r["horizon_s"]), *_breach(r["breach"]),
                 *_forecasts(r["forecasts"]), *_contributors(r["contributors"]),
                 _str(model["version"]), _long(model["samples_seen"]),
                 _TRUE if warm else _FALSE, _str(model["source"]), *_act(r.get("act")),
                 *_alarm(r.get("alarm"))]
    except (KeyError, TypeError, OverflowError, struct.error) as exc:
        raise Unfit from exc
    return b"".join(parts)


# by the schema's name and its CRC-64-AVRO fingerprint (the single-object header's 8 bytes):
# a changed .avsc has another fingerprint, so it goes back to fastavro until this path is
# written for it (the test then fails, as a reminder)
ENCODERS: dict[tuple[str, bytes], Callable[[Mapping[str, Any]], bytes]] = {
    ("HealthSignal", bytes.fromhex("30dbe58410c7fd9b")): health_signal,
    ("RiskScore", bytes.fromhex("e4b1e7e6d5ff24d9")): risk_score,
}
