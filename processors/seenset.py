"""The set of contexts a novelty model has seen (#14): the same answers in less memory.

:class:`processors.univariate.ContextNovelty` marks the slots (``0 .. 2**bits - 1``) of the
contexts it has seen and scores the fraction of a value's slots not marked yet. A bitmap of
``2**bits`` bits (1 KB at ``bits`` 13) held them until s16; most models mark far fewer slots
(the bench's components after 1 h of `fleet` data: ~110 of 8,192; NAB files: median 335), so
the set starts in a compact form and turns into the bitmap once that is smaller:

* **compact**: one ``bytearray`` of ``2**(bits - 8)`` bucket counts (slots ``256 b .. 256 b +
  255`` are bucket ``b``), then each bucket's slots' low bytes, sorted, bucket after bucket:
  ``2**(bits - 8) + k`` bytes for ``k`` slots (32 + 111 at ``bits`` 13, was 1,024);
* **bitmap**: the ``2**bits / 8`` bytes of before (slot ``s``: bit ``s & 7`` of byte ``s >> 3``),
  once the compact form would be as long (``k`` >= 992 at ``bits`` 13) or a bucket would hold
  more than 255 slots. A set never shrinks, so it never goes back.

The length says which (compact: always shorter than the bitmap). Either form is a function
of the set alone (a restored model's equals the live one's); a VERSION 3 snapshot held the
bitmap (:func:`bitmap`, :func:`restored`), a VERSION 4 one (s27) holds the form held.

>>> seen = empty(13)
>>> mark(seen, (5, 300, 5), 13), mark(seen, (300, 7), 13), bytes(seen[:2]), bytes(seen[32:])
(3, 1, b'\\x02\\x01', b'\\x05\\x07,')
>>> bm = bitmap(seen, 13)
>>> len(bm), bm[0], bm[37], restored(bm, 13) == seen
(1024, 160, 16, True)
"""

from __future__ import annotations

from bisect import bisect_left
from zlib import adler32

import numpy as np

__all__ = ["bitmap", "empty", "mark", "restored", "slots_of", "unseen"]


def _sizes(bits: int) -> tuple[int, int]:
    """``(bitmap bytes, compact head bytes)``; a head as long as the bitmap: bitmap only."""
    return (1 << bits) >> 3, 1 << max(bits - 8, 0)


def empty(bits: int) -> bytearray:
    """The empty set of slots ``0 .. 2**bits - 1`` (compact where it can be)."""
    nbytes, head = _sizes(bits)
    return bytearray(head if head < nbytes else nbytes)


def unseen(seen: bytearray, slots: tuple[int, ...], bits: int) -> int:
    """How many of ``slots`` (each counted as often as it comes) are not in the set."""
    nbytes, head = _sizes(bits)
    new = 0
    if len(seen) == nbytes:
        for s in slots:
            if not (seen[s >> 3] >> (s & 7)) & 1:
                new += 1
        return new
    for s in slots:
        b = s >> 8
        n = seen[b]  # an empty bucket holds none (s24: no start to find)
        if n:
            lo = _start(seen, b, head)
            if seen.find(s & 255, lo, lo + n) >= 0:
                continue
        new += 1
    return new


_ADLER_BASE = 65521  # zlib.adler32's modulus


def _start(seen: bytearray, b: int, head: int) -> int:
    """Where bucket ``b``'s slots start in a compact set: the head plus the counts before it,
    or the length less the counts from it on, whichever sums fewer counts (s27).

    The counts are summed by ``zlib.adler32`` started at 0, whose low 16 bits are the sum of
    the bytes modulo 65,521: the sum itself, as no part of the head sums past the set's size
    ``len(seen) - head`` (one C call for ``sum``'s iteration, s29; a set of 65,521 slots or
    more, ``bits`` 20 and up, sums as before)."""
    if len(seen) - head >= _ADLER_BASE:
        if b + b <= head:
            return head + sum(seen[:b]) if b else head
        return len(seen) - sum(seen[b:head])
    if b + b <= head:
        return head + (adler32(seen[:b], 0) & 0xFFFF) if b else head
    return len(seen) - (adler32(seen[b:head], 0) & 0xFFFF)


def mark(seen: bytearray, slots: tuple[int, ...], bits: int) -> int:
    """:func:`unseen` of ``slots`` (before any is marked), then ``slots`` put in the set, in
    place: one pass (s24; a slot that comes again after this call marked it counts again,
    as :func:`unseen` before the marking counts it)."""
    nbytes, head = _sizes(bits)
    new = 0
    done: list[int] = []  # the slots this call marked
    for s in slots:
        if len(seen) == nbytes:
            if (seen[s >> 3] >> (s & 7)) & 1:
                if s in done:
                    new += 1
                continue
            seen[s >> 3] |= 1 << (s & 7)
        else:
            b, low = s >> 8, s & 255
            n = seen[b]
            lo = _start(seen, b, head)
            at = bisect_left(seen, low, lo, lo + n) if n else lo  # where it is or goes
            if at < lo + n and seen[at] == low:
                if s in done:
                    new += 1
                continue
            if n < 255 and len(seen) + 1 < nbytes:
                seen.insert(at, low)
                seen[b] = n + 1
            else:  # the compact form would be as long: the bitmap
                seen[:] = bitmap(seen, bits)
                seen[s >> 3] |= 1 << (s & 7)
        new += 1
        done.append(s)
    return new


def _positions(seen: bytearray, bits: int) -> np.ndarray:
    nbytes, head = _sizes(bits)
    raw = np.frombuffer(seen, np.uint8)
    if len(seen) == nbytes:
        return np.unpackbits(raw, bitorder="little").view(bool).nonzero()[0]
    return (np.repeat(np.arange(head), raw[:head]) << 8) | raw[head:]


def slots_of(seen: bytearray, bits: int) -> list[int]:
    """The set's slots, ascending."""
    return [int(s) for s in _positions(seen, bits)]


def bitmap(seen: bytearray, bits: int) -> bytearray:
    """The set as the bitmap it was written as before #14 (``seen`` itself if it is one)."""
    nbytes, _ = _sizes(bits)
    if len(seen) == nbytes:
        return seen
    flags = np.zeros(nbytes * 8, np.uint8)
    flags[_positions(seen, bits)] = 1
    return bytearray(np.packbits(flags, bitorder="little").tobytes())


def restored(bm: bytearray, bits: int) -> bytearray:
    """The form a live model would hold for the set of bitmap ``bm`` (compact if it fits)."""
    nbytes, head = _sizes(bits)
    pos = _positions(bm, bits)
    if head + len(pos) >= nbytes:
        return bm
    counts = np.bincount(pos >> 8, minlength=head)
    if counts.max(initial=0) > 255:
        return bm
    return bytearray(counts.astype(np.uint8).tobytes() + (pos & 255).astype(np.uint8).tobytes())
