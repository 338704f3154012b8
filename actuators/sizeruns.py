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

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from actuators.forecast_sizing import ForewarnSizer


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


def ones(sz: ForewarnSizer, bases: np.ndarray, ts: int) -> tuple[np.ndarray, np.ndarray]:
    """Every forecaster's ``sz._one(i, bases[i], ts)``, stacked ``(knob, forecaster)``: the
    allocations and their P(demand > a). Where :func:`exact` holds, all forecasters at once
    over each one's kept buckets (:func:`_gathered`, :func:`_priced`): the same floats."""
    if not exact(sz.cost, sz.charge, sz.most_risk, sz.calibrate):
        each = [sz._one(i, b, ts) for i, b in enumerate(bases)]
        return np.stack([a for a, _ in each], axis=1), np.stack([q for _, q in each], axis=1)
    hs, cap = sz.hists, sz.capacity + sz.unit  # built alike: one set of bucket ends
    amounts = np.multiply.outer(bases, hs[0].starts[1:]) / 100.0
    a, w = _gathered(amounts, np.stack([h.weights for h in hs]), cap)
    prior = np.array([sz._prior(h, ts) for h in hs])
    cand, surv, price = _priced(a, w, np.array([h.total for h in hs]), prior, cap, sz.charge)
    risk = sz.tail_factor()[:, None, None] * surv[None] if sz.calibrate else surv[None]
    cost = np.where(risk <= sz.most_risk, risk, np.inf) + sz.lam[:, :, None] * price[None]
    j = np.argmin(cost, axis=2)  # (knob, forecaster)
    f = np.arange(len(hs))[None, :]
    return cand[f, j], surv[f, j]


def _gathered(amounts: np.ndarray, weights: np.ndarray,
              cap: float) -> tuple[np.ndarray, np.ndarray]:
    """Each row's :func:`keep` buckets, padded to one length with copies of its last bucket at
    weight 0 (the full computation's values there: no weight follows a row's kept ones)."""
    rows, n = amounts.shape
    mask = weights != 0.0
    mask[:, 0] = True
    first_over = np.count_nonzero(amounts < cap, axis=1)  # searchsorted(left), row by row
    mask[np.arange(rows), np.minimum(first_over, n - 1)] = True  # (n - 1: one more bucket)
    kept = [np.flatnonzero(row) for row in mask]
    idx = np.full((rows, max(k.size for k in kept)), n - 1)
    for row, k in zip(idx, kept, strict=True):
        row[:k.size] = k
    at = np.arange(rows)[:, None]
    w = weights[at, idx]
    w[:, 1:][idx[:, 1:] == idx[:, :-1]] = 0.0  # the pads (a repeat of bucket n - 1)
    return amounts[at, idx], w


def _priced(a: np.ndarray, w: np.ndarray, total: np.ndarray, prior: np.ndarray, cap: float,
            charge: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row by row, ``ForewarnSizer._one``'s candidates (the buckets ``a`` then ``cap``), their
    P(demand > a) and what lambda prices (with ``charge``, ``sizecharge.expected_use``'s
    ``E[min(demand, a)]`` taken off): the same operations, elementwise, in the same order."""
    rows, m = a.shape
    at = np.arange(rows)
    cum = np.cumsum(w, axis=1)
    k = np.count_nonzero(a <= cap, axis=1)  # searchsorted(right): buckets at or under cap
    under = k > 0
    last = np.maximum(k - 1, 0)
    norm = np.maximum(total + prior, 1e-300)[:, None]
    mass = np.empty((rows, m + 1))
    mass[:, :m] = total[:, None] - cum + prior[:, None] * (a < cap)
    mass[:, m] = total - np.where(under, cum[at, last], 0.0)
    surv = mass / norm
    cand = np.empty((rows, m + 1))
    cand[:, :m], cand[:, m] = a, cap
    if not charge:
        return cand, surv, cand
    use = np.empty((rows, m + 1))
    np.cumsum(w * a, axis=1, out=use[:, :m])
    use[:, m] = np.where(under, use[at, last], 0.0)
    use /= norm
    use[:, :m] += a * surv[:, :m]
    use[:, m] += cap * surv[:, m]
    lift = np.ones((rows, m + 1), dtype=bool)
    lift[:, :m] = a >= cap  # searchsorted(left) onwards, and cap itself
    lift &= (prior != 0.0)[:, None]
    use = np.where(lift, use + ((prior / norm[:, 0]) * cap)[:, None], use)
    return cand, surv, cand - charge * use


__all__ = ["candidates", "exact", "keep", "ones"]
