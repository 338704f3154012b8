"""The novelty models' seen contexts in their compact form (#14): the bitmap's answers."""

from __future__ import annotations

import random

import pytest

from processors import seenset, stateformat, statewrite3
from processors.univariate import ContextNovelty
from schemas.errors import ContractError


def _reference(slots: set[int], bits: int) -> bytearray:
    out = bytearray((1 << bits) >> 3)
    for s in slots:
        out[s >> 3] |= 1 << (s & 7)
    return out


@pytest.mark.parametrize("bits", [4, 8, 9, 12, 13])
def test_the_set_answers_as_the_bitmap_and_turns_into_it_once_that_is_smaller(bits: int) -> None:
    rnd = random.Random(bits)
    seen, ref = seenset.empty(bits), set[int]()
    forms = {len(seen) == (1 << bits) >> 3}
    steps = (1 << bits) // 4
    for i in range(steps):
        slots = tuple(rnd.randrange(1 << bits) for _ in range(rnd.randint(1, 6)))
        if rnd.random() < 0.2:
            slots += slots[:1]  # a slot twice in one lookup counts twice, as it did
        want = sum(s not in ref for s in slots)
        assert seenset.unseen(seen, slots, bits) == want
        assert seenset.mark(seen, slots, bits) == want
        ref.update(slots)
        forms.add(len(seen) == (1 << bits) >> 3)
        if i % 61 and i < steps - 1:
            continue
        assert seenset.slots_of(seen, bits) == sorted(ref)
        assert seenset.bitmap(seen, bits) == _reference(ref, bits)
        assert seenset.restored(_reference(ref, bits), bits) == seen  # one form per set
    assert forms == {False, True}


def test_a_bucket_that_would_hold_256_slots_turns_the_set_into_the_bitmap() -> None:
    seen = seenset.empty(16)  # 256 buckets: 256 slots of one bucket fit the compact length
    for s in range(255):
        seenset.mark(seen, (s,), 16)
    assert len(seen) == 256 + 255
    assert seenset.mark(seen, (255, 255), 16) == 2
    assert len(seen) == 8192 and seenset.slots_of(seen, 16) == list(range(256))


def _start_by_sum(seen: bytearray, b: int, head: int) -> int:
    return head + sum(seen[:b]) if b + b <= head else len(seen) - sum(seen[b:head])


@pytest.mark.parametrize("bits", [9, 13, 16, 17, 20])
def test_a_bucket_start_is_the_plain_sum_of_the_counts_full_buckets_and_large_sets_too(
        bits: int) -> None:
    """s29: the head's counts summed by zlib.adler32 (its low half, below its modulus), as
    ``sum``; a set of 65,521 slots or more (bits 20: full buckets) by ``sum`` itself."""
    rnd = random.Random(bits)
    _, head = seenset._sizes(bits)
    for trial in range(40):
        full = trial % 4 == 0
        counts = bytearray(255 if full else rnd.randint(0, 255) for _ in range(head))
        seen = counts + bytearray(sum(counts))  # the low bytes do not enter a start
        for b in range(head):
            assert seenset._start(seen, b, head) == _start_by_sum(seen, b, head)
    assert (1 << 20 - 8) * 255 >= seenset._ADLER_BASE  # bits 20 runs the fallback


def _model(n: int) -> ContextNovelty:
    m = ContextNovelty(warm=20, seasonal=False)
    rnd = random.Random(n)
    for i in range(n):
        m.step(rnd.gauss(0.0, 1.0) + (i % 7))
    return m


@pytest.mark.parametrize("n", [0, 300, 6000])
def test_a_model_snapshots_its_set_as_held_and_restores_the_same_form(n: int) -> None:
    """VERSION 4 writes the set as held (compact or bitmap); VERSION 3 wrote the bitmap, and
    still restores to the same form."""
    m = _model(n)
    blob = stateformat.encode(m)
    back = stateformat.decode(blob)
    assert back.seen == m.seen and stateformat.encode(back) == blob
    bitmap = seenset.bitmap(m.seen, m.bits)
    assert len(bitmap) == 1024 and bitmap == _reference(set(seenset.slots_of(m.seen, 13)), 13)
    v3 = statewrite3.encode(m)
    as_before = stateformat.decode(v3)
    assert as_before.seen == m.seen and stateformat.encode(as_before) == blob
    as_before.seen = bitmap  # the form every model held before #14: VERSION 3's same bytes
    assert statewrite3.encode(as_before) == v3
    x = 3.5
    assert back.step(x) == m.step(x) and back.seen == m.seen


def test_a_restored_set_that_is_not_a_bitmap_of_its_bits_is_refused() -> None:
    m = _model(50)
    m.seen = bytearray(100)  # neither form's length for bits 13 once written
    m.bits = 13
    from processors import stateforms

    with pytest.raises(ContractError, match="bitmap of 2\\*\\*bits"):
        stateforms.after_novelty(m)
    m.seen = bytearray([2] + [0] * 31 + [9, 5])  # a compact form, its bucket not sorted
    with pytest.raises(ContractError, match="nor its compact form"):
        stateforms.after_novelty(m)


@pytest.mark.parametrize("bits", [9, 13])
def test_one_pass_mark_counts_what_unseen_counted_before_the_marking(bits: int) -> None:
    rnd = random.Random(24 + bits)  # s24: mark in one pass; repeats anywhere in a lookup
    seen, ref = seenset.empty(bits), set[int]()
    pool = [rnd.randrange(1 << bits) for _ in range(1 << (bits - 2))]
    for _ in range(1 << (bits - 1)):
        slots = tuple(rnd.choice(pool) for _ in range(rnd.randint(1, 8)))
        before = seenset.unseen(bytearray(seen), slots, bits)
        assert before == sum(s not in ref for s in slots)
        assert seenset.mark(seen, slots, bits) == before
        ref.update(slots)
        assert seenset.bitmap(seen, bits) == _reference(ref, bits)
    assert len(seen) == (1 << bits) >> 3  # it turned into the bitmap on the way
