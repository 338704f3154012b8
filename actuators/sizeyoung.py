"""A young history priced (``young``; issue #11, session 25, trial B1; off by default): while a
component's history is shorter than the ``week`` forecaster's horizon ``H`` (7 days), the
prior's mass in each forecaster's sizing is spread over the demand *above what was seen*
instead of being put at the provisioned size.

Why: with ``n`` exchangeable outcomes, the chance that the next one exceeds the largest seen
is ``1 / (n + 1)`` (order statistics): the share the prior (one outcome of weight 1) already
has. Put at the provisioned size, that mass makes the cost sizing all-or-nothing: it holds the
whole size while ``1 / (n + 1) >= lambda x`` the capacity over the sizing (about 9 hours at
lambda ``3e-4`` on a 32 GB VM, 5 times the unused GiB-h of the same day sized warm), then
nothing (docs/closedloop.md, "A cold start that holds (session 24)"). Where a new maximum
would land is unknown; with no scale to prefer, the mass is spread *log-uniformly* (the same
weight in every bucket of the histogram's own geometric grid) from the bucket past the largest
outcome seen to the one holding the provisioned size. Priced by the cost sizing, that buys
``s / (lambda ln(C / m))`` (``s`` the share, ``C`` the size, ``m`` the most seen), graded by
lambda instead of all or nothing. From ``H`` on the prior is as before: the rule fades with
the history. No value is chosen: the share is the prior's, ``H`` the week forecaster's span,
the shape scale-free. Live = backtest: a sizer knows its first sample's time, its histograms
and the provisioned size. Pure: numpy only, event time.
"""

from __future__ import annotations

import numpy as np


def spread(weights: np.ndarray, starts: np.ndarray, ratio_cap: float,
           mass: float) -> np.ndarray | None:
    """``mass`` (in the histogram's weight units) spread evenly over the buckets after the
    last one with weight, up to and with the bucket holding ``ratio_cap`` (the provisioned
    size as a ratio to the forecaster's base, in the histogram's units: x 100); ``None``
    when there is no such bucket, the histogram is empty or ``mass`` is not positive.
    ``starts`` are the histogram's bucket starts (one more than ``weights``)."""
    if mass <= 0.0:
        return None
    seen = np.flatnonzero(weights)
    if seen.size == 0:
        return None
    lo = int(seen[-1]) + 1
    hi = min(int(np.searchsorted(starts, ratio_cap, side="right")) - 1, weights.size - 1)
    if hi < lo:
        return None
    out = np.zeros(weights.size)
    out[lo:hi + 1] = mass / (hi + 1 - lo)
    return out


def young(age_s: float, horizon_s: float) -> bool:
    """Whether a history of ``age_s`` is young: shorter than ``horizon_s``."""
    return 0 <= age_s < horizon_s


__all__ = ["spread", "young"]
