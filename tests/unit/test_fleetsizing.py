"""FleetSizing reads a saturated pool as censored demand: utilisation stops at 1 (throttled
CPU, a full link, memory at its limit), so the usage it shows is the allocation in force, and
the demand is at least that."""

from __future__ import annotations

from actuators.fleetsizing import FleetSizing, FleetSizingConfig, Workload
from actuators.forecast_sizing import ForewarnSizer
from actuators.rightsize import make_sizer


def _observed_after(util: float, config: FleetSizingConfig) -> float:
    """The CPU demand FleetSizing's sizer learnt from one sample at ``util``."""
    fs = FleetSizing([Workload("app-1", "host-1", cores=4, mem_gib=8, link_mbit=1000)], config)
    sizer = fs._comps["app-1"].sizers["cpu"]
    seen: list[float] = []
    original = sizer.observe
    sizer.observe = lambda ts, v: (seen.append(v), original(ts, v))[1]  # type: ignore[method-assign]
    fs.on_sample({"component": "app-1", "host": "host-1", "ts": 10_000,
                  "metrics": {"cpu.util": util, "mem.used_pct": 40.0, "disk.io_util": 0.1,
                              "net.util": 0.1}})
    return seen[0] / fs._comps["app-1"].scale["cpu"]


def test_a_saturated_reading_is_taken_as_more_than_the_allocation() -> None:
    assert _observed_after(1.0, FleetSizingConfig()) == 1.0 / 0.8  # the HPA's rule at target
    assert _observed_after(0.5, FleetSizingConfig()) == 0.5  # unsaturated: as it is


def test_with_the_censoring_off_saturation_reads_as_the_allocation() -> None:
    assert _observed_after(1.0, FleetSizingConfig(saturated=1.01)) == 1.0



def _leak_lead(ceiling: bool | str) -> float:
    """A memory sizer fed a linear leak (40 % to 130 % of its size over 15 hours, a sample a
    minute): its allocation's least lead over the demand once the demand is past the size."""
    size = 8.0 * 1024 * 1024
    sizer = make_sizer("forewarn", capacity=size, step_s=60, delay_s=10, resource="mem",
                       ceiling=ceiling)
    lead = float("inf")
    for i in range(900):
        demand = size * (0.4 + 0.9 * i / 900)
        sizer.observe(60 * i, demand)
        alloc = float(sizer.recommend(60 * i)[0])
        if demand > size:
            lead = min(lead, alloc - demand)
    return lead


def test_the_fleet_engine_allocates_ahead_of_a_leak_past_the_size() -> None:
    fs = FleetSizing([Workload("app-1", "host-1", cores=4, mem_gib=8, link_mbit=1000)])
    mem = fs._comps["app-1"].sizers["mem"]
    assert isinstance(mem, ForewarnSizer) and mem.ceiling is False
    assert _leak_lead(False) > 0.0  # the forecast of the leak is followed past the size
    assert _leak_lead("mem") <= 0.0  # the trace loop's ceiling: the most demand seen, no lead
