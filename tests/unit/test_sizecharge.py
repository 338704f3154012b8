"""forewarn's ``charge`` (session 21, docs/closedloop.md trial 35): the cost of an allocation
``a`` is ``P(d > a) + lambda * (a - kappa * E[min(d, a)])``; 1 is the default since session 21,
0 the sizing before it."""

from __future__ import annotations

import numpy as np
import pytest

from actuators.rightsize import ForewarnSizer, make_sizer
from actuators.sizecharge import expected_use
from actuators.sizerbase import GIB_KB
from schemas.errors import ConfigError


def test_expected_use_by_hand() -> None:
    """Outcomes 1, 2, 4 with weights 1, 2, 1; candidates the bucket ends then cap 3.
    No prior: P(d > a) = 3/4, 1/4, 0, 1/4; E[min(d, a)] = 1, (1 + 4)/4 + 2/4 = 1.75,
    (1 + 4 + 4)/4 = 2.25, (1 + 4)/4 + 3/4 = 2. With the prior (weight 1 at 3; norm 5):
    P(d > a) = 4/5, 2/5, 0, 1/5; E = 1, (1 + 4 + 2 + 2)/5 = 1.8, (1 + 4 + 4 + 3)/5 = 2.4,
    (1 + 4 + 3 + 3)/5 = 2.2."""
    amounts, weights = np.array([1.0, 2.0, 4.0]), np.array([1.0, 2.0, 1.0])
    got = expected_use(amounts, weights, 4.0, 0.0, 3.0, np.array([0.75, 0.25, 0.0, 0.25]))
    np.testing.assert_allclose(got, [1.0, 1.75, 2.25, 2.0])
    got = expected_use(amounts, weights, 4.0, 1.0, 3.0, np.array([0.8, 0.4, 0.0, 0.2]))
    np.testing.assert_allclose(got, [1.0, 1.8, 2.4, 2.2])


def _bursty(steps: int) -> list[float]:
    """Memory (KB) of an idle 40 GiB VM (0.1 GiB) that holds 20 GiB for 2 hours twice a day."""
    return [(20.0 if (i % 144) < 24 else 0.1) * GIB_KB for i in range(steps)]


def test_charge_one_is_the_default_and_follows_a_long_burst_that_zero_gives_up() -> None:
    """At lambda 0.1 per GiB a 20 GiB burst costs 2 per step to cover against a violation's 1:
    priced per unit allocated, the bursts (1/6 of the steps, under ``most_risk``) are given up
    (the ``window`` forecaster at 0.1 GiB is the cheapest); priced per unit expected unused
    (charge 1), demand that stays up uses what it is given, so the burst is followed (the
    ``level`` forecaster, which only pays for the steps where a burst ends)."""
    demand = _bursty(288 * 6)
    off = {"fleet_prior": ""}  # the mechanism alone, without session 25's fleet prior
    plain = make_sizer("forewarn", (0.1,), capacity=40 * GIB_KB, resource="mem", **off)
    zero = make_sizer("forewarn", (0.1,), capacity=40 * GIB_KB, resource="mem", charge=0.0,
                      **off)
    one = make_sizer("forewarn", (0.1,), capacity=40 * GIB_KB, resource="mem", charge=1.0,
                     **off)
    got: dict[str, list[float]] = {"plain": [], "zero": [], "one": []}
    for i, d in enumerate(demand):
        for name, sz in (("plain", plain), ("zero", zero), ("one", one)):
            sz.observe(i * 300, d)
            got[name].append(float(sz.recommend(i * 300)[0]))
    assert got["plain"] == got["one"]
    mid = [j for j in range(288 * 6 - 144, 288 * 6) if 4 <= j % 144 < 23]  # the last burst
    assert max(got["zero"][j] for j in mid) < 2 * GIB_KB
    assert min(got["one"][j] for j in mid) >= 20.0 * GIB_KB


def test_charge_is_the_argmin_of_its_cost_over_the_candidates() -> None:
    """``_one`` with charge 1 picks the candidate minimising clip(P(d > a)) + lambda * (a -
    E[min(d, a)]), E computed outcome by outcome (the bucket ends and the prior at cap)."""
    sz = make_sizer("forewarn", (0.03, 0.3), capacity=8 * GIB_KB, resource="mem", charge=1.0)
    rng = np.random.default_rng(3)
    for i in range(400):
        sz.observe(i * 300, float(rng.uniform(1.0, 3.0)) * GIB_KB)
        sz.recommend(i * 300)
    assert isinstance(sz, type(sz)) and hasattr(sz, "_one")
    h, base, ts = sz.hists[1], float(sz._bases()[1]), 400 * 300
    amounts = base * h.starts[1:] / 100.0
    prior, cap = sz._prior(h, ts), sz.capacity + sz.unit
    outcomes = np.append(amounts, cap)
    mass = np.append(h.weights, prior)
    cand = np.append(amounts, cap)
    surv = np.array([mass[outcomes > a].sum() for a in cand]) / mass.sum()
    use = np.array([(mass * np.minimum(outcomes, a)).sum() for a in cand]) / mass.sum()
    for k, lam in enumerate(sz.lam[:, 0]):
        cost = np.where(surv <= sz.most_risk, surv, np.inf) + lam * (cand - use)
        alloc, p = sz._one(1, base, ts)
        assert alloc[k] == pytest.approx(cand[int(np.argmin(cost))], rel=1e-12)
        assert p[k] == pytest.approx(surv[int(np.argmin(cost))], abs=1e-12)


def test_bad_charge_is_refused_and_a_quantile_or_mixture_ignores_it() -> None:
    for bad in (-1.0, 11.0):
        with pytest.raises(ConfigError):
            make_sizer("forewarn", (0.5,), capacity=100.0, charge=bad)
    for kw in ({"combine": "mixture"}, {"cost": False}):
        sz = make_sizer("forewarn", (0.5,), capacity=100.0, **kw)
        assert isinstance(sz, ForewarnSizer) and sz.charge == 0.0
    sz = make_sizer("forewarn", (0.5,), capacity=100.0)
    assert isinstance(sz, ForewarnSizer) and sz.charge == 1.0  # the default since session 21
