"""The set of contexts a novelty model has seen (#14): the same answers in less memory.

:class:`processors.univariate.ContextNovelty` marks the slots (``0 .. 2**bits - 1``) of the
contexts it has seen and scores the fraction of a value's slots not marked yet. A bitmap of
``2**bits`` bits (1 KB at ``bits`` 13) held them until s16; most models mark far fewer slots
(the bench's components after 1 h of `fleet` data: ~110 of 8,192; NAB files: median 335), so
the set starts in a compact form and turns into the bitmap once that is smaller:

* **compact**: one ``bytearray`` of ``2**(bits - 8)`` bucket counts (slots ``256 b .. 256 b +
  255`` are bucket ``b``), then each bucket's slots' low bytes, sorted, bucket after bucket:
  ``2**(bits - 8) + k`` bytes for ``k`` slots (47 + 111 at ``bits`` 13, was 1,024);
* **bitmap**: the ``2**bits / 8`` bytes of before (slot ``s``: bit ``s & 7`` of byte ``s >> 3``),
  once the compact form would be as long (``k`` >= 992 at ``bits`` 13) or a bucket would hold
  more than 255 slots. A set never shrinks, so it never goes back.

The length says which (compact: always shorter than the bitmap). Either form is a function
of the set alone (a restored model's equals the live one's); the snapshot holds the bitmap,
as before (:func:`bitmap`, :func:`restored`), so checkpoints are unchanged to the byte.

>>> seen = empty(13)
>>> mark(seen, (5, 300, 5), 13), mark(seen, (300, 7), 13), bytes(seen[:2]), bytes(seen[32:])
(3, 1, b'\\x02\\x01', b'\\x05\\x07,')
>>> bm = bitmap(seen, 13)
>>> len(bm), bm[0], bm[37], restored(bm, 13) == seen
(1024, 160, 16, True)
"""

from __future__ import annotations

import bisect
import re

__all__ = ["bitmap", "empty", "mark", "restored", "slots_of", "unseen"]

_NONZERO = re.compile(rb"[^\x00]")
_BITS_OF = tuple(tuple(j for j in range(8) if v >> j & 1) for v in range(256))


def _sizes(bits: int) -> tuple[int, int]:
    """``(bitmap bytes, compact head bytes)``; a head as long as the bitmap: bitmap only."""
    return (1 << bits) >> 3, 1 << max(bits - 8, 0)


def empty(bits: int) -> bytearray:
    """The empty set of slots ``0 .. 2**bits - 1`` (compact where it can be)."""
    nbytes, head = _sizes(bits)
    return bytearray(head if head < nbytes else nbytes)


def _bucket(seen: bytearray, s: int, head: int) -> tuple[int, int]:
    """Where the compact form keeps slot ``s``'s bucket: ``(start, end)`` in ``seen``."""
    b = s >> 8
    start = head + sum(seen[:b]) if b else head
    return start, start + seen[b]


def unseen(seen: bytearray, slots: tuple[int, ...], bits: int) -> int:
    """How many of ``slots`` (each counted as often as it comes) are not in the set."""
    nbytes, head = _sizes(bits)
    if len(seen) == nbytes:
        return sum(not (seen[s >> 3] >> (s & 7)) & 1 for s in slots)
    return sum(seen.find(s & 255, *_bucket(seen, s, head)) < 0 for s in slots)


def mark(seen: bytearray, slots: tuple[int, ...], bits: int) -> int:
    """:func:`unseen` of ``slots`` (before any is marked), then ``slots`` put in the set, in
    place."""
    nbytes, head = _sizes(bits)
    if len(seen) == nbytes:
        new = sum(not (seen[s >> 3] >> (s & 7)) & 1 for s in slots)
        for s in slots:
            seen[s >> 3] |= 1 << (s & 7)
        return new
    missing = [s for s in slots if seen.find(s & 255, *_bucket(seen, s, head)) < 0]
    for s in dict.fromkeys(missing):  # once each, in order
        if len(seen) == nbytes:  # turned into the bitmap by an earlier slot
            seen[s >> 3] |= 1 << (s & 7)
        elif seen[s >> 8] == 255 or len(seen) + 1 >= nbytes:
            seen[:] = bitmap(seen, bits)
            seen[s >> 3] |= 1 << (s & 7)
        else:
            bisect.insort(seen, s & 255, *_bucket(seen, s, head))
            seen[s >> 8] += 1
    return len(missing)


def slots_of(seen: bytearray, bits: int) -> list[int]:
    """The set's slots, ascending."""
    nbytes, head = _sizes(bits)
    if len(seen) == nbytes:
        return [(m.start() << 3) | j for m in _NONZERO.finditer(seen)
                for j in _BITS_OF[seen[m.start()]]]
    out: list[int] = []
    pos = head
    for b in range(head):
        n = seen[b]
        out += [(b << 8) | low for low in seen[pos:pos + n]]
        pos += n
    return out


def bitmap(seen: bytearray, bits: int) -> bytearray:
    """The set as the bitmap it was written as before #14 (``seen`` itself if it is one)."""
    nbytes, _ = _sizes(bits)
    if len(seen) == nbytes:
        return seen
    out = bytearray(nbytes)
    for s in slots_of(seen, bits):
        out[s >> 3] |= 1 << (s & 7)
    return out


def restored(bm: bytearray, bits: int) -> bytearray:
    """The form a live model would hold for the set of bitmap ``bm`` (compact if it fits)."""
    nbytes, head = _sizes(bits)
    slots = slots_of(bm, bits)
    if head + len(slots) >= nbytes:
        return bm
    counts = bytearray(head)
    for s in slots:
        if counts[s >> 8] == 255:
            return bm
        counts[s >> 8] += 1
    return counts + bytes(s & 255 for s in slots)
