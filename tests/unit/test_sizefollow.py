"""forewarn's ``follow`` (session 22, docs/closedloop.md trials 37-37b; the default since then,
100 on CPU): after a miss (demand above the allocation in effect) the next decision asks for at
least ``follow`` x that demand, capped at max(provisioned size, most demand seen), for the knob
values that missed."""

from __future__ import annotations

import numpy as np
import pytest

from actuators.rightsize import ForewarnSizer, make_sizer
from actuators.sizefollow import FollowingSizer
from schemas.errors import ConfigError


def _run(sz: ForewarnSizer, demand: list[float], given: list[np.ndarray]) -> list[np.ndarray]:
    out = []
    for i, (d, a) in enumerate(zip(demand, given, strict=True)):
        sz.observe(i * 300, d, a)
        out.append(sz.recommend(i * 300))
    return out


def test_follow_by_hand() -> None:
    """Size 1000; knob values 0.01 and 1 per core; two sizers alike but for follow 1.5. The same
    demand (100, a one-step 500 every 97 steps, a first 600 at the end) and the same allocations
    in effect, [1000, 200]: only the second knob misses, on the jumps. After a miss of d its next
    decision is max(own, min(1.5 d, max(1000, most seen))): 750 after a 500, 900 after the 600;
    after any other step, and for the first knob always, the plain sizer's to the bit (the
    floor does not touch what the sizer learns)."""
    demand = [500.0 if i % 97 == 96 else 100.0 for i in range(600)] + [600.0]
    given = [np.array([1000.0, 200.0])] * len(demand)
    plain = ForewarnSizer((0.01, 1.0), 1000.0, resource="cpu")
    off = make_sizer("forewarn", (0.01, 1.0), capacity=1000.0, resource="cpu", follow=0.0)
    follow = make_sizer("forewarn", (0.01, 1.0), capacity=1000.0, resource="cpu", follow=1.5)
    assert isinstance(follow, FollowingSizer) and follow.follow == 1.5
    a, b = _run(plain, demand, given), _run(follow, demand, given)
    for x, z in zip(a, _run(off, demand, given), strict=True):
        np.testing.assert_array_equal(x, z)  # follow 0: the sizing before, bit for bit
    for d, x, y in zip(demand, a, b, strict=True):
        assert y[0] == x[0]
        assert y[1] == (max(x[1], min(1.5 * d, 1000.0)) if d > 200.0 else x[1])
    assert a[-1][1] < 200.0 and b[-1][1] == 900.0  # plain does not follow the jump; follow does


def test_follow_is_capped_at_the_size_or_the_most_seen() -> None:
    """A miss of 900 with follow 2 asks for min(1800, max(1000, 900)) = 1000, the size."""
    sz = make_sizer("forewarn", (0.1,), capacity=1000.0, resource="cpu", follow=2.0)
    got = _run(sz, [100.0] * 40 + [900.0], [np.array([150.0])] * 41)
    assert got[-1][0] == 1000.0


def test_follow_applies_to_follow_on_only_and_refuses_bad_values() -> None:
    cpu = make_sizer("forewarn", (0.1,), capacity=1000.0, resource="cpu")
    assert isinstance(cpu, FollowingSizer) and cpu.follow == 100.0  # the default since s22
    mem = make_sizer("forewarn", (0.1,), capacity=1000.0, resource="mem", follow=1.5)
    both = make_sizer("forewarn", (0.1,), capacity=1000.0, resource="mem", follow=1.5,
                      follow_on="cpu,mem")
    assert isinstance(mem, FollowingSizer) and mem.follow == 0.0 and both.follow == 1.5
    with pytest.raises(ConfigError):
        make_sizer("forewarn", (0.1,), capacity=1000.0, follow=-1.0)
    with pytest.raises(ConfigError):
        make_sizer("forewarn", (0.1,), capacity=1000.0, follow=float("inf"))
