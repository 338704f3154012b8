"""The buckets where forewarn's sizing by cost can choose (``ForewarnSizer._one``): the same
choice over about a fifth of the candidates, bit for bit.

``_one`` prices every bucket end ``a_j`` of a forecaster's histogram (about 730) at each knob
``lambda``: ``F(P(d > a_j)) + lambda * p_j`` with ``p_j = a_j - kappa * E[min(d, a_j)]``
(``kappa`` the ``charge``; ``F`` is ``P`` itself, or with ``calibrate`` the knob's factor
times it, and infinity over ``most_risk``), and takes the first cheapest. Over a *run* of
buckets with no weight (after the first, on one side of the provisioned size ``cap``) the
cumulative weight, ``sum w_i a_i`` and so ``P(d > a_j)`` are the same floats, so ``F`` is the
same, while ``p_j`` grows: by ``(a_{j+1} - a_j)(1 - kappa P)`` (at least 2 % of ``a_j``:
bucket ends grow by over 1.02x), times ``1 - kappa P >= 1/2`` where the cost is finite (the
guard :func:`exact`), against rounding errors of a few ulps of ``(1 + 3 kappa) a_j``
(``E[min(d, a_j)] <= 3 a_j``). Rounded ``lambda * p`` and ``F + lambda * p`` are monotone in
``p``, so every run's first bucket is its cheapest, and the first cheapest of all is a run's
first bucket. :func:`keep` lists those; the running sums over them are the full ones at
those buckets (a zero adds nothing; the ``cap`` candidate reads them at the last bucket under
``cap``, equal to its run's first), and every other quantity is elementwise, so ``_one``
computes the same values there and picks the same allocation (``tests/unit/test_sizeruns.py``
checks it against the full computation).
"""

from __future__ import annotations

import numpy as np


def exact(cost: bool, charge: float, most_risk: float, calibrate: float) -> bool:
    """Whether :func:`keep` gives ``_one`` the same choice: sizing by cost, and ``1 - kappa
    P >= 1/2`` wherever the cost is finite (``P <= most_risk``; with ``calibrate`` any ``P``,
    as the knob's factor can bring it under)."""
    return cost and charge * (1.0 if calibrate else most_risk) <= 0.5


def keep(amounts: np.ndarray, weights: np.ndarray, cap: float) -> np.ndarray:
    """The buckets that start a run, in order: the first, every one with weight, the first at
    or over ``cap`` (indices into ``amounts``, ascending bucket ends, and ``weights``)."""
    mask = weights != 0.0
    mask[0] = True
    first_over = int(np.searchsorted(amounts, cap, side="left"))
    if first_over < amounts.size:
        mask[first_over] = True
    out: np.ndarray = np.flatnonzero(mask)
    return out


def candidates(amounts: np.ndarray, weights: np.ndarray, cap: float,
               same: bool) -> tuple[np.ndarray, np.ndarray]:
    """``amounts`` and ``weights`` at the buckets :func:`keep` lists where that gives the same
    choice (``same``: :func:`exact`), else as they are."""
    if not same:
        return amounts, weights
    at = keep(amounts, weights, cap)
    return amounts[at], weights[at]


__all__ = ["candidates", "exact", "keep"]
