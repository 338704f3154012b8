"""Hold a young component's provisioned size (``hold``; issue #11, session 24): while its
history spans less than the ``week`` forecaster's horizon ``H`` (7 days), the chance that the
week's peak demand is still to come is the share of the week not yet seen, ``p = 1 - age / H``
(days alike: the peak is as likely on any of them). The allocation is lifted to the provisioned
size, per knob, where ``p`` is at least ``lambda`` x the capacity lifted (per core / GiB: the
sizing's own price, as the override's ``override_cost``), so a fleet that prices capacity high
(lambda 1) never holds a VM over a GiB, and one that prices it low holds it about a week.

Why: started cold on days 15-30 of the real traces, forewarn's memory minutes were 2.9 times
those of the same steps sized warm (VPA's 1.9): the large VMs' memory idles for days and
bursts for hours, and a histogram a few days old has not seen the week's bursts
(docs/closedloop.md, "A cold start that holds (session 24)"). No value is chosen: ``H`` is the
week forecaster's span and the price is the knob's. A live actuator knows both the provisioned
size (it comes with each sample) and the component's age (its sizer starts on the first
sample), so the rule acts the same live and in the backtest. Pure: event time only."""

from __future__ import annotations

import numpy as np


def unseen(age_s: float, horizon_s: float) -> float:
    """The share of the horizon not yet seen: 1 at the first sample, 0 from ``horizon_s`` on."""
    if horizon_s <= 0:
        return 0.0
    return min(max(1.0 - age_s / horizon_s, 0.0), 1.0)


def held(alloc: np.ndarray, capacity: float, lam: np.ndarray, chance: float) -> np.ndarray:
    """``alloc`` (per knob) lifted to ``capacity`` where ``chance`` >= ``lam`` x the lift."""
    if chance <= 0.0:
        return alloc
    lift = np.maximum(capacity - alloc, 0.0)
    out: np.ndarray = np.where(chance >= lam * lift, alloc + lift, alloc)
    return out


__all__ = ["held", "unseen"]
