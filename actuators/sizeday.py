"""The ``day`` forecaster (issue #11, session 30; off by default): the VM's own day. Its point
forecast ``b`` for the window an allocation will be in effect, ``[t + delay, t + delay + step)``,
is the largest demand seen within ``DAY_WINDOW_S`` (30 min, fixed a priori: session 29's
diagnostic read) either side of that window one day earlier; with no sample there (the first
day, or a gap), the last sample, as the peak forecasters do before they have a span.

Why: on the real traces the one half-fold cell still short (days 15-30 started cold, VMs
51-100, reactive CPU) is VMs 55-81's jumps inside busy stretches, sized by the ``level``
forecaster, which lets go of a stretch within the hour; nearly half of those jumps recur near
the same time the day before (docs/closedloop.md, sessions 29 and 30). Like every forecaster
it keeps a histogram of what then happened over its own ``b`` and the cost combiner takes it,
per knob, only where its own sizing cost least lately, so it is priced by ``lambda`` as the
others are. The sizer's demand history already holds more than a day (``hist_ts``), so it adds
no state beyond one more histogram. ``day`` in :class:`actuators.sizefollow.FollowingSizer`
names the resources it is added on (comma separated; ``""``, the default: none). Pure: no
clock, no I/O; event time."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from actuators.sizerbase import DAY

DAY_WINDOW_S = 1800


def day_base(hist_ts: Sequence[int], hist_v: Sequence[float], ts: int, span: int,
             delay_s: int, last: float) -> float:
    """The largest demand within ``DAY_WINDOW_S`` of ``[ts + delay_s, ts + span)`` one day
    before (``span`` = delay + step), or ``last`` where there is no sample there."""
    lo = ts + delay_s - DAY - DAY_WINDOW_S
    hi = ts + span - DAY + DAY_WINDOW_S
    i = bisect.bisect_left(hist_ts, lo)
    j = bisect.bisect_left(hist_ts, min(hi, ts + 1))
    return max(hist_v[i:j]) if j > i else last


def with_day(forecasters: Sequence[str], resource: str, on: str) -> tuple[str, ...]:
    """``forecasters`` with ``day`` appended where ``resource`` is among ``on``'s names."""
    names = tuple(forecasters)
    if resource in str(on).split(",") and "day" not in names:
        names += ("day",)
    return names
