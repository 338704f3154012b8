"""Each right-sizing peer against a hand-computed example from its published description, and
forewarn's sizing on what it must do (actuators/rightsize.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from actuators.rightsize import make_sizer
from actuators.sizerbase import KB_PER_MB, MHZ_PER_CORE, DecayingHistogram
from schemas.errors import ConfigError


def test_static_is_the_provisioned_size_times_the_knob() -> None:
    sz = make_sizer("static", (1.0, 0.5), capacity=4000.0)
    sz.observe(0, 123.0)
    np.testing.assert_allclose(sz.recommend(0), [4000.0, 2000.0])


def test_hpa_rule_tolerance_and_scale_down_stabilisation() -> None:
    # HPA: desired = current * (utilisation / target); |ratio - 1| <= 0.1 keeps it; a scale
    # down takes the largest recommendation of the last 300 s.
    sz = make_sizer("reactive", (0.7,), capacity=100.0)
    alloc = np.array([100.0])
    sz.observe(0, 100.0, alloc)  # utilisation 1.0: 100 * 1.0 / 0.7
    assert sz.recommend(0)[0] == pytest.approx(100 / 0.7)
    alloc = sz.recommend(0)
    sz.observe(300, 40.0, alloc)  # wants 57.1, but 142.9 was recommended 300 s ago
    assert sz.recommend(300)[0] == pytest.approx(100 / 0.7)
    sz.observe(600, 40.0, alloc)  # both recommendations in the window are now 57.1
    assert sz.recommend(600)[0] == pytest.approx(40 / 0.7)
    alloc = sz.recommend(600)
    sz.observe(900, 0.7 * alloc[0] * 1.09, alloc)  # within the 10 % tolerance: unchanged
    assert sz.recommend(900)[0] == pytest.approx(alloc[0])
    sz.observe(1200, 0.7 * alloc[0] * 1.11, alloc)  # past it: scale up at once
    assert sz.recommend(1200)[0] == pytest.approx(alloc[0] * 1.11)


def _bucket_end(value: float, first: float, ratio: float = 1.05) -> float:
    i = math.floor(math.log(value * (ratio - 1) / first + 1) / math.log(ratio))
    return first * (ratio ** (i + 1) - 1) / (ratio - 1)


def test_vpa_cpu_target_is_the_percentile_bucket_end_plus_margin() -> None:
    # VPA: P90 of the decaying histogram (first bucket 0.01 core, x1.05), times 1.15.
    first = 0.01 * MHZ_PER_CORE
    sz = make_sizer("vpa", (0.9,), capacity=100 * MHZ_PER_CORE)
    alloc = np.array([100 * MHZ_PER_CORE])
    values = [1000.0] * 9 + [5000.0]  # P90 falls on 1000 (9 of 10 samples)
    for i, v in enumerate(values):
        sz.observe(i * 300, v, alloc)
        alloc = sz.recommend(i * 300)
    assert alloc[0] == pytest.approx(_bucket_end(1000.0, first) * 1.15)


def test_vpa_histogram_halves_a_sample_per_half_life() -> None:
    h = DecayingHistogram(1.0, 1.05, 1e6, half_life_s=86400)
    h.add(10.0, 1.0, 0)
    h.add(1000.0, 1.0, 86400)  # twice the weight of the one a day older
    assert h.weights.sum() == pytest.approx(3.0)
    assert h.percentiles(np.array([0.34]))[0] == pytest.approx(_bucket_end(1000.0, 1.0))
    assert h.percentiles(np.array([0.33]))[0] == pytest.approx(_bucket_end(10.0, 1.0))


def test_vpa_memory_oom_bump_up() -> None:
    # OOM: a sample of max(1.2 x limit, limit + 100 MB) and the pod restarts with the target.
    gib = 1024.0 * 1024.0
    sz = make_sizer("vpa", (0.9,), capacity=8 * gib, resource="mem")
    alloc = np.array([1 * gib])
    sz.observe(0, 2 * gib, alloc)  # over the 1 GiB limit
    got = sz.recommend(0)[0]
    bump = max(1.2 * gib, gib + 100 * KB_PER_MB)
    # the interval's peak is the larger of the demand (2 GiB) and the bump
    assert got == pytest.approx(_bucket_end(max(2 * gib, bump), 10 * KB_PER_MB) * 1.15)
    # and never below VPA's 250 MB minimum
    small = make_sizer("vpa", (0.9,), capacity=8 * gib, resource="mem")
    small.observe(0, 1.0, np.array([8 * gib]))
    small.observe(13 * 3600, 1.0, np.array([8 * gib]))
    assert small.recommend(13 * 3600)[0] == pytest.approx(250 * KB_PER_MB * 1.0)


def test_autopilot_memory_is_the_max_of_peaks_in_the_window_plus_margin() -> None:
    # Autopilot's moving window, memory: S_max over the window; limit = (1 + margin) x S.
    sz = make_sizer("autopilot", (0.1,), capacity=2000.0, resource="mem", choose=False)
    for i, v in enumerate([500.0, 1000.0, 300.0]):
        sz.observe(i * 300, v)
    assert sz.recommend(600)[0] == pytest.approx(1100.0)
    sz.observe(86400 + 300, 200.0)  # a day after the 1000: out of the 24 h window
    assert sz.recommend(86400 + 300)[0] == pytest.approx(330.0)


def test_autopilot_cpu_is_a_decayed_percentile_and_models_compete_on_cost() -> None:
    first = 0.01 * MHZ_PER_CORE
    sz = make_sizer("autopilot", (0.0,), capacity=10 * MHZ_PER_CORE, choose=False)
    for i in range(20):
        sz.observe(i * 300, 2000.0 if i % 10 == 0 else 1000.0)  # 10 % of samples at 2000
    # P95 of 18 x 1000 and 2 x 2000: 2000's bucket
    assert sz.recommend(6000)[0] == pytest.approx(_bucket_end(2000.0, first))
    both = make_sizer("autopilot", (0.0,), capacity=10 * MHZ_PER_CORE)
    for i in range(300):
        both.observe(i * 300, 1000.0 + (1500.0 if i % 7 == 0 else 0.0))
    assert both.chosen in range(len(both.models))
    assert both.cost[both.chosen] == pytest.approx(both.cost.min(), rel=0.12)


def test_forewarn_cold_start_then_sizes_from_what_happened() -> None:
    sz = make_sizer("forewarn", (0.01,), capacity=8000.0, warm=4)
    for i in range(4):
        sz.observe(i * 300, 1000.0)
        assert sz.recommend(i * 300)[0] == 8000.0  # the provisioned size until warm
    for i in range(4, 200):
        sz.observe(i * 300, 1000.0)
        got = sz.recommend(i * 300)[0]
    # constant demand: the allocation is that demand, within one histogram bucket (2 %)
    assert 1000.0 <= got <= 1000.0 * 1.03 + 80.0


def test_forewarn_lower_lambda_never_allocates_less_and_risk_overrides() -> None:
    rng = np.random.default_rng(7)
    sz = make_sizer("forewarn", (1.0, 0.1, 0.01, 0.001), capacity=8000.0)
    last = None
    for i in range(600):
        sz.observe(i * 300, float(500 + 400 * rng.random() + (3000 if i % 50 == 0 else 0)))
        last = sz.recommend(i * 300)
    assert np.all(np.diff(last) >= -1e-9)
    ts = 600 * 300
    sz.observe(ts, 600.0)
    sz.on_risk({"ts": ts * 1000, "risk": 0.9, "anomaly": 0.0,
                "forecasts": [{"metric": "cpu.util", "horizon_s": 300, "upper": 0.9}]})
    held = sz.recommend(ts)
    assert np.all(held[1:] >= 0.9 * 8000.0)
    # lambda 1 per core: lifting ~6,500 MHz (2.2 cores) costs 2.2 > the risk 0.9: not bought
    assert held[0] < 0.9 * 8000.0
    sz.observe(ts + 7200, 600.0)  # two hours on: the override has lapsed
    lapsed = sz.recommend(ts + 7200)
    assert np.all(lapsed[:3] < 0.9 * 8000.0)
    # lambda 0.001 per core: the prior (the provisioned size) is still worth keeping here
    assert lapsed[3] == pytest.approx(8000.0)


def test_forewarn_prior_is_the_provisioned_size() -> None:
    """Constant demand 1,000 MHz, 199 outcomes (total weight about 199, the prior 1): keeping
    the provisioned 8,000 MHz cuts P(violation) by the prior's share, 1/200 = 0.005, for 7,000
    MHz = 2.4 cores more. lambda 1e-6 per core pays (2.4e-6 < 0.005): the provisioned size;
    lambda 0.01 does not (0.024 > 0.005): the demand; without the prior, the demand at both."""
    for prior, low in ((1.0, 8000.0), (0.0, 1000.0)):
        sz = make_sizer("forewarn", (1e-6, 0.01), capacity=8000.0, warm=0, prior=prior)
        for i in range(201):
            sz.observe(i * 300, 1000.0)
            got = sz.recommend(i * 300)
        assert got[0] == pytest.approx(low, rel=0.03, abs=80.0)
        assert 1000.0 <= got[1] <= 1000.0 * 1.03 + 80.0
    with pytest.raises(ConfigError):
        make_sizer("forewarn", (0.01,), capacity=1.0, prior=-1.0)


def test_forewarn_week_forecaster_remembers_a_burst_the_day_forgot() -> None:
    """A 5,000 MHz burst three days ago: the ``peak`` base (last day) is back at 1,000 MHz
    plus u (1 % of 8,000 = 80); the ``week`` base still holds 5,000 + 80."""
    sz = make_sizer("forewarn", (0.01,), capacity=8000.0)
    for i in range(4 * 288):
        sz.observe(i * 300, 5000.0 if i == 288 else 1000.0)
    bases = dict(zip(sz.names, sz._bases(), strict=True))
    assert bases["peak"] == pytest.approx(1080.0)
    assert bases["week"] == pytest.approx(5080.0)
    assert bases["window"] == pytest.approx(80.0)


def test_forewarn_most_risk_keeps_at_least_the_median() -> None:
    """lambda 10 per core: no allocation pays for itself (1,000 MHz = 0.34 core costs 3.4 >
    1), yet it never sizes with more than ``most_risk`` (0.5) chance of a violation: the
    median of constant demand, the demand itself."""
    sz = make_sizer("forewarn", (10.0,), capacity=8000.0, warm=0, prior=0.0,
                    forecasters=("level",))
    for i in range(100):
        sz.observe(i * 300, 1000.0)
        got = sz.recommend(i * 300)[0]
    assert 1000.0 <= got <= 1000.0 * 1.03 + 80.0


def test_forewarn_risk_override_is_bought_only_where_the_risk_pays_for_it() -> None:
    """Memory, provisioned 4 GiB, demand 1 GiB (cold start: the allocation is the 4 GiB).
    Risk 0.7 with a forecast upper bound of 200 % of the provisioned size: the override wants
    8 GiB, 4 GiB more. lambda 1 per GiB: 4 x 1 = 4 > 0.7, not worth it (4 GiB kept); lambda
    0.1: 0.4 <= 0.7, bought (8 GiB). Without ``override_cost`` both take it. (Without the
    memory ceiling, the default since session 18, which would hold both at the 4 GiB.)"""
    gib = 1024.0 * 1024.0
    risk = {"ts": 0, "risk": 0.7, "anomaly": 0.0,
            "forecasts": [{"metric": "mem.used_pct", "horizon_s": 300, "upper": 200.0}]}
    for gate, want in ((True, [4 * gib, 8 * gib]), (False, [8 * gib, 8 * gib])):
        sz = make_sizer("forewarn", (1.0, 0.1), capacity=4 * gib, resource="mem",
                        override_cost=gate, ceiling=False)
        sz.observe(0, 1 * gib)
        sz.recommend(0)
        sz.on_risk(risk)
        sz.observe(300, 1 * gib)
        assert sz.recommend(300).tolist() == pytest.approx(want)


def test_bad_knobs_are_refused() -> None:
    with pytest.raises(ConfigError):
        make_sizer("vpa", (1.5,), capacity=1.0)
    with pytest.raises(ConfigError):
        make_sizer("reactive", (0.0,), capacity=1.0)
    with pytest.raises(ConfigError):
        make_sizer("nope", capacity=1.0)


def test_every_policy_follows_a_new_provisioned_size() -> None:
    """A VM resized mid-series (1,300 -> 4,000): static keeps the new size, the 1 % floor
    every policy keeps is 1 % of it, and forewarn's cold start and prior (the provisioned
    size as one outcome) are the new size, not the first one."""
    static = make_sizer("static", (1.0, 0.5), capacity=1300.0)
    static.observe_capacity(300, 4000.0)
    static.observe_capacity(600, 0.0)  # a sample without a size keeps the last one
    np.testing.assert_allclose(static.recommend(600), [4000.0, 2000.0])
    # HPA on idle demand: desired = 0 / 0.7, held at the floor: 1 % of 1,000, then of 4,000
    hpa = make_sizer("reactive", (0.7,), capacity=1000.0)
    hpa.observe(0, 0.0, np.array([10.0]))
    assert hpa.recommend(0)[0] == pytest.approx(10.0)
    hpa.observe_capacity(1000, 4000.0)
    hpa.observe(1000, 0.0, np.array([10.0]))
    assert hpa.recommend(1000)[0] == pytest.approx(40.0)
    # forewarn's cold start: the provisioned size until ``warm`` outcomes are in
    cold = make_sizer("forewarn", (0.01,), capacity=1300.0, warm=1000)
    cold.observe(0, 100.0)
    assert cold.recommend(0)[0] == pytest.approx(1300.0)
    cold.observe_capacity(300, 4000.0)
    cold.observe(300, 100.0)
    assert cold.recommend(300)[0] == pytest.approx(4000.0)
    # at a tiny lambda the prior keeps the provisioned size: every outcome (100 + u) is under
    # it, so P(demand > size) = 0 there, while any smaller size keeps the prior's share
    # (1/(n+1) > lambda x size): allocation = size + u - u = the new size, exactly
    keep = make_sizer("forewarn", (1e-7,), capacity=1300.0, warm=0)
    for i in range(60):
        if i == 30:
            keep.observe_capacity(i * 300, 4000.0)
        keep.observe(i * 300, 100.0)
        got = keep.recommend(i * 300)[0]
        assert got == pytest.approx(1300.0 if i < 30 else 4000.0)


def test_forewarn_cold_start_is_the_prior_priced_by_lambda() -> None:
    """Constant demand 1,000 MHz on a VM provisioned 8,000 (u = 80): after ``n`` outcomes the
    provisioned size is kept while its prior share 1/(n + 1) is over ``most_risk`` (0.2) or
    worth lambda x the 7,000 MHz (2.39 cores) it holds. lambda 1: 2.39 > any share, so only
    most_risk binds: kept for n <= 3, the demand from n = 5 (n = 4 is the edge, 1/5 = 0.2, and
    the older outcomes' decay keeps the share just over it). lambda 0.01: 0.0239,
    so kept while 1/(n + 1) > 0.0239 (n <= 40), the demand from about n = 42."""
    for lam, kept, sized in ((1.0, 3, 5), (0.01, 35, 50)):
        sz = make_sizer("forewarn", (lam,), capacity=8000.0)
        for i in range(80):
            sz.observe(i * 300, 1000.0)
            got, n = sz.recommend(i * 300)[0], sz.resolved
            if n <= kept:
                assert got == pytest.approx(8000.0), (lam, n)
            elif n >= sized:
                assert 1000.0 <= got <= 1000.0 * 1.03 + 80.0, (lam, n, got)


def test_forewarn_price_per_own_size_gives_every_size_the_same_quantile() -> None:
    """Two VMs of the same shape, demand 1/8 of the provisioned size, 199 outcomes (the prior's
    share 1/200 = 0.005). Keeping the provisioned size costs lambda x 7/8 of it. Per core
    (``price="gib"``), lambda 0.001: the small VM (8,000 MHz: 7,000 more = 2.39 cores, 0.0024
    < 0.005) keeps it, the big one (80,000: 23.9 cores, 0.024 > 0.005) sizes at the demand. Per
    own size (``"size"``): 0.001 x 7/8 = 0.000875 < 0.005 keeps both; lambda 0.01 (0.00875)
    sizes both at the demand."""
    want = {("gib", 0.001): (8000.0, 10000.0), ("size", 0.001): (8000.0, 80000.0),
            ("size", 0.01): (1000.0, 10000.0)}
    for (price, lam), (small, big) in want.items():
        for cap, expect in ((8000.0, small), (80000.0, big)):
            sz = make_sizer("forewarn", (lam,), capacity=cap, price=price)
            for i in range(201):
                sz.observe(i * 300, cap / 8)
                got = sz.recommend(i * 300)[0]
            assert got == pytest.approx(expect, rel=0.03, abs=0.01 * cap), (price, lam, cap)
    with pytest.raises(ConfigError):
        make_sizer("forewarn", (0.01,), capacity=1.0, price="core")


def test_forewarn_size_exponent_prices_between_per_core_and_per_size() -> None:
    """As above (demand 1/8 of the size, prior share 1/200 = 0.005, keeping the size costs
    lambda x 7/8 of it), lambda 0.003, priced per core x (1 core / C) ** beta. beta 0.5: the
    small VM (8,000 MHz = 2.734 cores) pays 0.003 x 0.875 x sqrt(2.734) = 0.00434 < 0.005 and
    keeps its size, the big one (27.34 cores) 0.003 x 0.875 x sqrt(27.34) = 0.0137 and sizes at
    the demand. Per core (beta 0) the small one pays 0.003 x 2.39 = 0.0072 and sizes too; per
    size (beta 1) both pay 0.0026 and keep theirs."""
    want = {0.0: (1000.0, 10000.0), 0.5: (8000.0, 10000.0), 1.0: (8000.0, 80000.0)}
    for beta, (small, big) in want.items():
        for cap, expect in ((8000.0, small), (80000.0, big)):
            sz = make_sizer("forewarn", (0.003,), capacity=cap, size_exponent=beta)
            for i in range(201):
                sz.observe(i * 300, cap / 8)
                got = sz.recommend(i * 300)[0]
            assert got == pytest.approx(expect, rel=0.03, abs=0.01 * cap), (beta, cap)
    for cap in (8000.0, 80000.0):
        one = make_sizer("forewarn", (0.003,), capacity=cap, size_exponent=1.0)
        size = make_sizer("forewarn", (0.003,), capacity=cap, price="size")
        assert one.lam == pytest.approx(size.lam, rel=1e-12)
    with pytest.raises(ConfigError):
        make_sizer("forewarn", (0.01,), capacity=1.0, size_exponent=1.5)
    with pytest.raises(ConfigError):
        make_sizer("forewarn", (0.01,), capacity=1.0, price_scale="mean")


def test_forewarn_price_scale_peak_prices_by_the_learnt_peak_demand() -> None:
    """``price_scale="peak"``, beta 1: the price is per the peak demand seen so far (10,000 MHz
    on the 80,000 VM), not per its size: keeping the size then costs 0.003 x 70,000 / 10,000 =
    0.021 > 0.005 and it sizes at the demand, where per size (0.003 x 0.875 = 0.0026) it kept
    80,000. Before any demand the scale is the unit u (800 MHz); it follows the peak up."""
    sz = make_sizer("forewarn", (0.003,), capacity=80000.0, size_exponent=1.0,
                    price_scale="peak")
    assert sz.lam[0, 0] == pytest.approx(0.003 / 800.0)
    for i in range(201):
        sz.observe(i * 300, 10000.0)
        got = sz.recommend(i * 300)[0]
    assert sz.lam[0, 0] == pytest.approx(0.003 / 10000.0)
    assert got == pytest.approx(10000.0, rel=0.03, abs=800.0)
    sz.observe(201 * 300, 20000.0)
    assert sz.lam[0, 0] == pytest.approx(0.003 / 20000.0)


def test_forewarn_ever_forecaster_remembers_a_burst_the_week_forgot() -> None:
    """A 5,000 MHz burst ten days ago: the ``week`` base is back at 1,000 MHz plus u (1 % of
    8,000 = 80); the ``ever`` base (the peak so far) still holds 5,000 + 80."""
    sz = make_sizer("forewarn", (0.01,), capacity=8000.0,
                    forecasters=("level", "week", "ever"))
    for i in range(11 * 288):
        sz.observe(i * 300, 5000.0 if i == 288 else 1000.0)
    bases = dict(zip(sz.names, sz._bases(), strict=True))
    assert bases["week"] == pytest.approx(1080.0)
    assert bases["ever"] == pytest.approx(5080.0)
    assert make_sizer("forewarn", (0.01,), capacity=1.0).names == (
        "level", "window", "peak", "week")


def test_forewarn_calibrate_counts_exceedances_and_scales_the_tail() -> None:
    """``calibrate`` c = 1. Two knobs; a window whose demand (+ u) was 10 against chosen
    allocations 8 and 12 with predicted exceedance 0.1 and 0.3: seen [1, 0], expected
    [0.1, 0.3]. One half-life (7 days) later a window at 5 (no exceedance) with 0.05 and 0.15:
    seen [0.5, 0], expected [0.05 + 0.05, 0.15 + 0.15]; factor (seen + 1) / (expected + 1) =
    1.5 / 1.1 = 1.3636 and 1 / 1.3 = 0.7692. The sizing then minimises f x P(d > a) + lambda x
    a, which is the uncalibrated sizing at lambda / f (most_risk not binding here; the same
    forecaster is the cheapest in both: the choice among them prices at lambda itself)."""
    sz = make_sizer("forewarn", (0.01, 0.001), capacity=8000.0, calibrate=1.0)
    sz._calibrate(0, 10.0, np.array([[8.0, 0.1], [12.0, 0.3]]))
    np.testing.assert_allclose(sz.seen, [1.0, 0.0])
    np.testing.assert_allclose(sz.expected, [0.1, 0.3])
    sz._calibrate(7 * 86400, 5.0, np.array([[8.0, 0.05], [12.0, 0.15]]))
    np.testing.assert_allclose(sz.expected, [0.1, 0.3])
    np.testing.assert_allclose(sz.tail_factor(), [1.5 / 1.1, 1.0 / 1.3])
    demand = [1000.0 + 400.0 * math.sin(i / 7.0) + (2500.0 if i % 97 == 0 else 0.0)
              for i in range(600)]
    for lam, f in ((0.01, 3.0), (0.003, 0.5)):
        cal = make_sizer("forewarn", (lam,), capacity=8000.0, calibrate=1.0)
        ref = make_sizer("forewarn", (lam / f,), capacity=8000.0, most_risk=1.0)
        cal.most_risk = 1.0
        for i, d in enumerate(demand):
            for s in (cal, ref):
                s.observe(i * 300, d)
            cal.seen, cal.expected = np.array([3.0 * f - 1.0]), np.array([2.0])
            assert cal.tail_factor()[0] == pytest.approx(f)
            got, want = cal.recommend(i * 300)[0], ref.recommend(i * 300)[0]
            assert got == pytest.approx(want, rel=1e-9), (lam, i)
    off = make_sizer("forewarn", (0.01,), capacity=8000.0)
    for i, d in enumerate(demand[:50]):
        off.observe(i * 300, d)
        off.recommend(i * 300)
    assert off.seen.sum() == 0.0 and all(p[3] is None for p in off.pending)
    with pytest.raises(ConfigError):
        make_sizer("forewarn", (0.01,), capacity=1.0, calibrate=-1.0)
