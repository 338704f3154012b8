"""forewarn's ``young`` (session 25, trial B1; docs/closedloop.md "A young history priced"):
while a component's history is shorter than the ``week`` forecaster's horizon, the prior's
mass (1 / (n + 1) of each forecaster's mixture) is spread evenly over the histogram's buckets
above the most seen, up to the provisioned size, instead of being put at the size."""

from __future__ import annotations

import numpy as np

from actuators.rightsize import make_sizer
from actuators.sizefollow import FollowingSizer
from actuators.sizerbase import DAY, GIB_KB, DecayingHistogram
from actuators.sizeyoung import spread, young
from tests.unit.test_sizehold import SIZE, STEP, _run


def test_spread_over_the_buckets_above_the_most_seen() -> None:
    h = DecayingHistogram(0.01, 1.02, 1e6, 7 * DAY)
    assert spread(h.weights, h.starts, 500.0, 1.0) is None  # empty
    h.add(150.0, 1.0, 0)
    assert spread(h.weights, h.starts, 500.0, 0.0) is None
    assert spread(h.weights, h.starts, 100.0, 1.0) is None  # the size under the most seen
    add = spread(h.weights, h.starts, 500.0, 2.0)
    assert add is not None
    lo, hi = h.index(150.0) + 1, h.index(500.0)
    assert np.flatnonzero(add).tolist() == list(range(lo, hi + 1))
    assert np.isclose(add.sum(), 2.0) and np.all(add[lo:hi + 1] == add[lo])
    assert young(0, 7 * DAY) and young(7 * DAY - 1, 7 * DAY) and not young(7 * DAY, 7 * DAY)
    assert not young(5, 0)


def test_young_by_hand() -> None:
    """A 32 GiB VM whose memory idles near 0.5 GiB: the plain sizer holds the whole size at
    lambda 3e-4 per GiB for hours (the prior at the size), then lets go; ``young`` holds a
    graded amount that shrinks as 1 / (n + 1) does, never more than the plain sizer while the
    plain one holds the size; lambda 1 alike after the first outcome; after 7 days (one
    forecaster: no cost sums to remember) both decide alike, to the bit."""
    knobs = (1.0, 3e-4)
    kw = {"capacity": SIZE, "resource": "mem", "forecasters": ("level",), "fleet_prior": ""}
    plain = make_sizer("forewarn", knobs, **kw)
    new = make_sizer("forewarn", knobs, young="mem", **kw)
    assert isinstance(new, FollowingSizer) and new.young_s == 7 * DAY
    assert isinstance(plain, FollowingSizer) and plain.young_s == 0
    steps = 8 * DAY // STEP
    a, b = _run(plain, steps), _run(new, steps)
    assert a[0][1] == b[0][1] == SIZE  # before the first outcome: the provisioned size
    for i in (50, 100, 300, 1000):
        assert 0.6 * GIB_KB < b[i][1] < SIZE  # graded: more than the idle level, under the size
    assert b[50][1] > b[100][1] > b[300][1] > b[1000][1]  # fading as 1 / (n + 1)
    assert a[100][1] == SIZE and a[200][1] < b[200][1]  # the plain one: all, then nothing
    assert b[100][0] == a[100][0] < GIB_KB  # lambda 1: the idle level either way
    for x, y in zip(a[7 * DAY // STEP:], b[7 * DAY // STEP:], strict=True):
        np.testing.assert_array_equal(x, y)


def test_young_off_is_the_sizer() -> None:
    knobs = (0.01,)
    a = make_sizer("forewarn", knobs, capacity=SIZE, resource="mem")
    b = make_sizer("forewarn", knobs, capacity=SIZE, resource="mem", young="cpu")
    for x, y in zip(_run(a, 400), _run(b, 400), strict=True):  # named for cpu: off on memory
        np.testing.assert_array_equal(x, y)
