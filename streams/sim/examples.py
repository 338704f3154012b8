"""Example inputs shared by the benchmarks and the tests: a simulated fleet's samples with
extra metrics, and a RiskScore over the default threshold. Deterministic (seeded, event time)."""

from __future__ import annotations

from typing import Any

from streams.sim.simulator import Fleet, scenario

T0 = 1_767_571_200_000
COMPONENTS = 50
EXTRA = ("swap.used_pct", "fd.used_pct", "procs.running")  # the simulator's 9 metrics + 3


def fleet_samples(n: int, components: int = COMPONENTS, seed: int = 42) -> list[dict[str, Any]]:
    """``n`` MetricSample dicts of the simulated fleet, step by step, 12 metrics each."""
    fleet = Fleet(scenario("fleet", seed=seed, n_components=components))
    out: list[dict[str, Any]] = []
    step = 0
    while len(out) < n:
        for s in fleet.step():
            k = (step * 7 + len(out)) % 97
            s["metrics"].update({EXTRA[0]: 2.0 + k / 20, EXTRA[1]: 20.0 + step % 13,
                                 EXTRA[2]: float(40 + k % 9)})
            out.append(s)
        step += 1
    return out[:n]


def risk_event(component: str, ts: int, value: float = 0.9) -> dict[str, Any]:
    """A RiskScore over the default threshold, forecasting cpu.util past its threshold."""
    return {
        "component": component, "ts": ts, "risk": value, "anomaly": 0.5, "horizon_s": 900,
        "breach": {"metric": "cpu.util", "threshold": 0.95, "eta_s": 300.0, "probability": value},
        "forecasts": [{"metric": "cpu.util", "horizon_s": 300, "mean": 0.97, "lower": 0.9,
                       "upper": 1.05}],
        "contributors": {"cpu.util": 1.0},
        "model": {"version": "bench", "samples_seen": 100, "warm": True, "source": "component"},
    }
