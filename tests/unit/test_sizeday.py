"""forewarn's ``day`` forecaster (session 30; docs/closedloop.md "Session 30"): the VM's own
day, the largest demand within 30 min of the allocation's window one day earlier; off by
default, added per resource by ``FollowingSizer(day=...)``."""

from __future__ import annotations

import numpy as np

from actuators.rightsize import make_sizer
from actuators.sizeday import DAY_WINDOW_S, day_base, with_day
from actuators.sizefollow import FollowingSizer
from actuators.sizerbase import DAY

STEP = 300
CAP = 8000.0


def _demand(i: int) -> float:
    """Idle at 100, busy at 4000 for 20 steps at the same time every day."""
    return 4000.0 if 200 <= i % (DAY // STEP) < 220 else 100.0


def _run(sz: FollowingSizer, steps: int) -> list[np.ndarray]:
    out = []
    for i in range(steps):
        sz.observe(i * STEP, _demand(i), None)
        out.append(sz.recommend(i * STEP))
    return out


def test_day_base_by_hand() -> None:
    ts = [0, 300, 600, DAY - 600, DAY]
    v = [1.0, 5.0, 2.0, 3.0, 4.0]
    # the window [DAY + 300, DAY + 600) one day back is [300, 600), +- 30 min: 0 .. 2400
    assert day_base(ts, v, DAY, 600, 300, 9.0) == 5.0
    assert day_base(ts, v, 0, 600, 300, 9.0) == 9.0  # the first day: the last sample
    assert day_base(ts, v, 3 * DAY, 600, 300, 9.0) == 9.0  # a gap: no sample there
    assert DAY_WINDOW_S == 1800
    assert with_day(("level", "window"), "cpu", "cpu") == ("level", "window", "day")
    assert with_day(("level",), "mem", "cpu") == ("level",)
    assert with_day(("level", "day"), "cpu", "cpu,mem") == ("level", "day")


def test_day_off_by_default_and_per_resource() -> None:
    plain = make_sizer("forewarn", (0.01,), capacity=CAP, resource="cpu")
    on = make_sizer("forewarn", (0.01,), capacity=CAP, resource="cpu", day="cpu")
    mem = make_sizer("forewarn", (0.01,), capacity=CAP, resource="mem", day="cpu",
                     fleet_prior="")
    assert isinstance(plain, FollowingSizer) and "day" not in plain.names
    assert isinstance(on, FollowingSizer) and on.names[-1] == "day" and len(on.hists) == 5
    assert isinstance(mem, FollowingSizer) and "day" not in mem.names
    assert on.costs.shape == (1, 5)


def test_day_recurs_a_daily_stretch() -> None:
    """A stretch at the same time every day: from the third day on, the ``day`` forecaster
    sizes it before it starts at a lambda where the plain sizer does not."""
    knobs = (0.03,)
    plain = make_sizer("forewarn", knobs, capacity=CAP, resource="cpu")
    on = make_sizer("forewarn", knobs, capacity=CAP, resource="cpu", day="cpu")
    assert isinstance(plain, FollowingSizer) and isinstance(on, FollowingSizer)
    steps = 5 * DAY // STEP
    a, b = _run(plain, steps), _run(on, steps)
    start = 4 * DAY // STEP + 200  # the stretch's first step on the fifth day
    # decided one step before (in effect from the next sample on)
    assert b[start - 1][0] >= 4000.0 > a[start - 1][0]
    assert int(np.argmin(on.costs[0])) == on.names.index("day")  # the combiner's choice
