"""What forewarn's right-sizing charges for capacity (``ForewarnSizer(charge=kappa)``): the cost
of an allocation ``a`` is ``P(demand > a) + lambda * (a - kappa * E[min(demand, a)])``.

``kappa`` 0 (the simulator's fleet engine; the sizer's default before session 21) prices every
unit allocated; ``kappa`` 1 (the sizer's default since) prices the capacity expected to go
*unused*, the numerator of the slack the backtest reports (``(allocated - used) /
allocated``): capacity that demand then uses costs nothing, so a component in a long burst is
followed rather than given up at a large ``lambda``. The Lagrangian of "fewest violations at a
pooled slack ``S``" is ``kappa = 1 / (1 - S)`` (``P(d > a) + mu * ((1 - S) * a - E[min(d, a)])``).
The marginal price of a unit is ``lambda * (1 - kappa * P(d > a))``. Pure: numpy only.
"""

from __future__ import annotations

import numpy as np

from schemas.errors import ConfigError


def check_charge(charge: float, combine: str, cost: bool) -> float:
    """``charge`` as a float; it acts on the sizing by cost over each forecaster's own sizing
    only (``cost=False``, a plain quantile, and ``combine="mixture"`` read it as 0)."""
    if not 0.0 <= charge <= 10.0:
        raise ConfigError("forewarn: charge within [0, 10] (0: every unit allocated)")
    return float(charge) if cost and combine == "cost" else 0.0


def expected_use(amounts: np.ndarray, weights: np.ndarray, total: float, prior: float,
                 cap: float, surv: np.ndarray) -> np.ndarray:
    """``E[min(demand, a)]`` at each candidate of ``ForewarnSizer._one``: the histogram's bucket
    ends ``amounts`` (ascending; an outcome in bucket ``j`` is ``amounts[j]``, weight
    ``weights[j]``), then ``cap``; the prior is one outcome at ``cap`` of weight ``prior``;
    ``surv`` is ``P(demand > a)`` at the same candidates (the prior counted where ``a < cap``).
    ``E[min(d, a_k)] = sum_{j <= k} p_j x_j + a_k * P(d > a_k)`` (+ the prior's ``cap`` once
    ``a_k >= cap``)."""
    norm, n = max(total + prior, 1e-300), amounts.size
    use = np.empty(n + 1)
    np.cumsum(weights * amounts, out=use[:n])
    k = int(np.searchsorted(amounts, cap, side="right"))  # the buckets ending at or under cap
    use[n] = use[k - 1] if k > 0 else 0.0
    use /= norm
    use[:n] += amounts * surv[:n]
    use[n] += cap * surv[n]
    if prior:  # the candidates at or over cap (and cap itself)
        use[int(np.searchsorted(amounts, cap, side="left")):] += (prior / norm) * cap
    return use
