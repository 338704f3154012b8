"""forewarn's fleet prior (session 25, docs/closedloop.md "A fleet prior for a cold start"):
a young component's histograms start from other components' pooled outcomes, at a warm
histogram's weight, taken out linearly over a week."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from actuators.fleetprior import FORMAT, FleetPrior, Pool, load, warm_weight
from actuators.rightsize import make_sizer
from actuators.sizefollow import FollowingSizer
from actuators.sizerbase import DAY, GIB_KB
from schemas.errors import ConfigError
from streams.settings import Settings

STEP = 300
SIZE = 32 * GIB_KB


def _bursty(days: float, phase: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Memory that idles at 0.5 GiB and bursts to 12 GiB for an hour twice a day."""
    n = int(days * DAY / STEP)
    ts = np.arange(n, dtype=np.int64) * STEP
    demand = np.full(n, 0.5 * GIB_KB)
    demand[((np.arange(n) + phase) % 144) < 12] = 12 * GIB_KB
    return ts, demand


def _prior(tmp_path: Path) -> Path:
    pool = Pool()
    for phase in (0, 40, 90):
        ts, demand = _bursty(4, phase)
        pool.add(ts, demand, np.full(ts.size, SIZE), STEP, 300)
    path = tmp_path / "prior.json"
    path.write_text(json.dumps(pool.doc()))
    return path


def _run(sz: FollowingSizer, days: float) -> list[np.ndarray]:
    out = []
    for i in range(int(days * DAY / STEP)):
        sz.observe(i * STEP, 0.5 * GIB_KB + (i % 7) * 1000.0, None)
        out.append(sz.recommend(i * STEP))
    return out


def test_pool_and_load(tmp_path: Path) -> None:
    shares = load(_prior(tmp_path))
    assert set(shares) == {"level", "window", "peak", "week"}
    for p in shares.values():
        assert p.sum() == pytest.approx(1.0) and np.all(p >= 0)
    assert warm_weight(300, 7 * DAY) == pytest.approx(2909.0, abs=1.0)


def test_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ConfigError):
        load(bad)
    bad.write_text(json.dumps({"format": FORMAT, "buckets": 3, "forecasters": {"level": [[5, 1]]}}))
    with pytest.raises(ConfigError):
        load(bad)
    with pytest.raises(ConfigError):
        FleetPrior({}, 0.0)


def test_young_sizer_holds_the_fleets_bursts(tmp_path: Path) -> None:
    """A young idle VM sized by the level forecaster: without the prior, lambda 3e-4 per GiB
    sizes near its idle level; with a prior learnt on bursty VMs it keeps room for a burst; the
    CPU sizer ignores a mem prior."""
    path = str(_prior(tmp_path))
    cold = make_sizer("forewarn", (3e-4,), capacity=SIZE, step_s=STEP, resource="mem",
                      fleet_prior="", forecasters=("level",))
    fleet = make_sizer("forewarn", (3e-4,), capacity=SIZE, step_s=STEP, resource="mem",
                       fleet_prior=path, forecasters=("level",))
    assert isinstance(cold, FollowingSizer) and isinstance(fleet, FollowingSizer)
    a, b = _run(cold, 1), _run(fleet, 1)
    assert a[-1][0] < 2 * GIB_KB < 10 * GIB_KB < b[-1][0]
    cpu = make_sizer("forewarn", (0.01,), capacity=SIZE, step_s=STEP, resource="cpu",
                     fleet_prior=path)
    assert isinstance(cpu, FollowingSizer) and cpu.fleet is None


def test_the_prior_is_gone_after_a_week(tmp_path: Path) -> None:
    """Seeded at a warm histogram's weight, taken out by age / 7 days: from a week on the
    histograms hold the component's own outcomes only (to rounding)."""
    path = str(_prior(tmp_path))
    cold = make_sizer("forewarn", (0.01,), capacity=SIZE, step_s=STEP, resource="mem",
                      fleet_prior="off")
    fleet = make_sizer("forewarn", (0.01,), capacity=SIZE, step_s=STEP, resource="mem",
                       fleet_prior=path)
    assert isinstance(cold, FollowingSizer) and isinstance(fleet, FollowingSizer)
    fleet.observe(0, 0.5 * GIB_KB, None)
    assert fleet.hists[0].total == pytest.approx(warm_weight(STEP, 7 * DAY))
    assert fleet.fleet is not None
    fleet.observe(STEP, 0.5 * GIB_KB, None)
    assert fleet.fleet.left == pytest.approx(1.0 - STEP / (7 * DAY))
    _run(cold, 7.5)
    _run(fleet, 7.5)
    assert fleet.fleet.left == 0.0
    for h, g in zip(cold.hists, fleet.hists, strict=True):  # refs differ: the seed's is older
        assert h.ref is not None and g.ref is not None
        scale = 2.0 ** ((g.ref - h.ref) / h.half_life)
        assert g.total * scale == pytest.approx(h.total, rel=1e-9)
        np.testing.assert_allclose(g.weights * scale, h.weights, rtol=1e-9, atol=1e-9 * h.total)


def test_live_actuator_loads_the_same_prior(tmp_path: Path) -> None:
    """``forewarn actuate --sizing forewarn`` with ``sizing_fleet_prior``: each component's
    memory sizer is seeded on its first sample, as in the backtest; a bad file stops it."""
    from actuators.rightsize import RightSizing
    from streams.runtime.sizing import make_sizing

    path = str(_prior(tmp_path))
    live = make_sizing("forewarn", None, 300, 300, fleet_prior=path)
    assert isinstance(live, RightSizing)
    live.on_sample({"component": "h/vm", "ts": 0, "metrics": {
        "cpu.used_mhz": 100.0, "cpu.capacity_mhz": 2000.0, "mem.used_kb": 0.5 * GIB_KB,
        "mem.capacity_kb": SIZE}})
    mem, cpu = live.sizers[("h/vm", "mem")], live.sizers[("h/vm", "cpu")]
    assert isinstance(mem, FollowingSizer) and isinstance(cpu, FollowingSizer)
    assert mem.fleet is not None and mem.fleet.t0 == 0 and cpu.fleet is None
    dflt = make_sizing("forewarn", None, 300, 300)  # the default since session 25: builtin
    assert isinstance(dflt, RightSizing) and dflt.options == {"fleet_prior": "builtin"}
    assert Settings().sizing_fleet_prior == "builtin"
    for value in ("", "off"):
        off = make_sizing("forewarn", None, 300, 300, fleet_prior=value)
        assert isinstance(off, RightSizing)
        off.on_sample({"component": "h/vm", "ts": 0, "metrics": {
            "mem.used_kb": 0.5 * GIB_KB, "mem.capacity_kb": SIZE}})
        sz = off.sizers[("h/vm", "mem")]
        assert isinstance(sz, FollowingSizer) and sz.fleet is None
    with pytest.raises(ConfigError):
        make_sizing("forewarn", None, 300, 300, fleet_prior=str(tmp_path / "missing.json"))


def test_the_shipped_prior_and_the_fleet_engine() -> None:
    """``fleet_prior="builtin"`` is the file shipped beside the module; the simulator's fleet
    engine never seeds a prior."""
    from actuators.fleetprior import BUILTIN_PATH
    from actuators.fleetsizing import FleetSizing, Workload

    shares = load("builtin")
    assert BUILTIN_PATH.is_file() and set(shares) == {"level", "window", "peak", "week"}
    assert all(p.sum() == pytest.approx(1.0) for p in shares.values())
    sz = make_sizer("forewarn", (0.01,), capacity=SIZE, step_s=STEP, resource="mem",
                    fleet_prior="builtin")
    assert isinstance(sz, FollowingSizer) and sz.fleet is not None
    fleet = FleetSizing([Workload("c", "h", 2.0, 4.0, 100.0)])
    for comp in fleet._comps.values():
        assert all(getattr(s, "fleet", None) is None for s in comp.sizers.values())
