"""forewarn's ``hold`` (session 24, docs/closedloop.md "A cold start that holds"): while a
component's history spans less than the ``week`` forecaster's horizon, its allocation is lifted
to the provisioned size where the share of the week not yet seen is at least lambda x the
capacity lifted (per GiB on memory)."""

from __future__ import annotations

import numpy as np
import pytest

from actuators.rightsize import make_sizer
from actuators.sizefollow import FollowingSizer
from actuators.sizehold import held, unseen
from actuators.sizerbase import DAY, GIB_KB

STEP = 300
SIZE = 32 * GIB_KB


def _run(sz: FollowingSizer, steps: int) -> list[np.ndarray]:
    out = []
    for i in range(steps):
        sz.observe(i * STEP, 0.5 * GIB_KB + (i % 7) * 1000.0, None)
        out.append(sz.recommend(i * STEP))
    return out


def test_unseen_share_and_the_lift() -> None:
    assert unseen(0, 7 * DAY) == 1.0 and unseen(3.5 * DAY, 7 * DAY) == 0.5
    assert unseen(7 * DAY, 7 * DAY) == 0.0 and unseen(9 * DAY, 7 * DAY) == 0.0
    assert unseen(10, 0) == 0.0
    got = held(np.array([2.0, 2.0, 12.0]), 10.0, np.array([0.01, 0.1, 0.1]), 0.5)
    np.testing.assert_array_equal(got, [10.0, 2.0, 12.0])  # 0.5 >= 0.08; 0.5 < 0.8; over


def test_hold_by_hand() -> None:
    """A 32 GiB VM whose memory idles near 0.5 GiB, knob values 1 and 3e-4 per GiB, sized with
    and without ``hold``: lambda 1 never holds (30 GiB cost 30 > 1); lambda 3e-4 is held at the
    size while 1 - age / 7 days >= 3e-4 x the GiB lifted, and released after; after 7 days both
    sizers decide alike, to the bit (the hold does not touch what the sizer learns)."""
    knobs = (1.0, 3e-4)
    plain = make_sizer("forewarn", knobs, capacity=SIZE, resource="mem")
    hold = make_sizer("forewarn", knobs, capacity=SIZE, resource="mem", hold="mem")
    assert isinstance(hold, FollowingSizer) and hold.horizon == 7 * DAY
    assert isinstance(plain, FollowingSizer) and plain.horizon == 0
    steps = 8 * DAY // STEP
    a, b = _run(plain, steps), _run(hold, steps)
    released = None
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        assert y[0] == x[0]
        lift = (SIZE - x[1]) / GIB_KB
        if 1.0 - i * STEP / (7 * DAY) >= 3e-4 * lift:
            assert y[1] == max(x[1], SIZE)
        else:
            assert y[1] == x[1]
            released = i if released is None else released
    assert released is not None and 6.9 * DAY < released * STEP < 7 * DAY
    assert a[0][1] == SIZE and a[-1][1] < 2 * GIB_KB  # the plain sizer lets go in hours


@pytest.mark.parametrize("resource", ["cpu"])
def test_hold_applies_to_its_resources_only(resource: str) -> None:
    sz = make_sizer("forewarn", (3e-4,), capacity=4000.0, resource=resource, hold="mem")
    assert isinstance(sz, FollowingSizer) and sz.horizon == 0
    both = make_sizer("forewarn", (3e-4,), capacity=4000.0, resource=resource, hold="cpu,mem")
    assert isinstance(both, FollowingSizer) and both.horizon == 7 * DAY


def test_settle_sizes_with_the_first_forecaster_while_young() -> None:
    """``settle`` (trial 39): while the history is shorter than the combiner's half-life (3
    days), the decision is the one the plain sizer makes when its combiner picks the first
    forecaster (level); after, the plain sizer's to the bit (the learning is untouched)."""
    plain = make_sizer("forewarn", (0.01,), capacity=SIZE, resource="mem")
    settle = make_sizer("forewarn", (0.01,), capacity=SIZE, resource="mem", settle="mem")
    assert isinstance(settle, FollowingSizer) and settle.settle and not plain.settle
    young = settle.score_hl // STEP
    differ = 0
    for i in range(4 * DAY // STEP):
        d = 0.5 * GIB_KB * (8.0 if i % 211 == 210 else 1.0) + (i % 7) * 1000.0
        for sz in (plain, settle):
            sz.observe(i * STEP, d, None)
        first = int(np.argmin(plain.costs[0])) == 0
        a, b = plain.recommend(i * STEP), settle.recommend(i * STEP)
        if i >= young or first:
            np.testing.assert_array_equal(a, b)
        else:
            differ += int(not np.array_equal(a, b))
    assert differ > 0
