"""A deterministic simulated fleet: MetricSample dicts out, AllocationCommand dicts in.

Pure (numpy only, no Kafka, no wall clock): the same scenario and seed give the same
samples, and commands change later samples the way the resource would on a real host.
The model is described in docs/simulator.md.

    >>> fleet = Fleet(scenario("ramp", seed=1))
    >>> samples = fleet.step()
    >>> len(samples), samples[0]["component"], samples[0]["ts"] - fleet.scenario.start_ms
    (4, 'web-01', 10000)
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from streams.sim.commands import Commands, _Grant
from streams.sim.incidents import (
    FAIL_THRESHOLDS,
    HOST_HEADROOM,
    KINDS,
    MEM_SEASONAL,
    METRICS,
    Component,
    Incident,
    Scenario,
    TraceDemand,
    seasonal,
)
from streams.sim.scenarios import SCENARIOS, scenario
from streams.sim.truth import Truth, to_batches, write_ground_truth

__all__ = [
    "FAIL_THRESHOLDS", "HOST_HEADROOM", "KINDS", "METRICS", "MIN_CAPACITY", "POOLS", "SCENARIOS",
    "Component", "Fleet", "Incident", "Scenario", "bench", "scenario", "to_batches",
    "write_ground_truth",
]

_COL = {m: j for j, m in enumerate(METRICS)}
_FAIL_METRICS = tuple(FAIL_THRESHOLDS)
_FAIL_COLS = np.array([_COL[m] for m in _FAIL_METRICS])
_FAIL_THR = np.array([FAIL_THRESHOLDS[m] for m in _FAIL_METRICS])
_CHANNELS = ("cpu", "io", "net", "mem_gib", "disk_pct")  # incident effect channels
# AR(1) noise, one column per driver: cpu, io, net demand, memory, disk, latency, errors
_NOISE_TAU_S = 120.0
_N_NOISE = 7
_DENSE_MAX = 256  # up to this many components, propagate dependencies with a dense matrix
_LOAD_NOISE = np.array([0.06, 0.08, 0.08])  # relative noise on cpu, io, net demand
POOLS = ("cpu", "mem", "io", "net")  # the capacity pools of the usage accounting, in order
MIN_CAPACITY = 0.1  # a scale-down never takes a pool below this fraction of its base


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # tanh: no overflow warnings


class Fleet(Commands, Truth):
    """The simulated fleet of one scenario. ``step`` advances event time by ``step_s``;
    ``apply`` changes the capacities used from the next step on."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        comps = scenario.components
        self._ids = [c.id for c in comps]
        self._index = {cid: i for i, cid in enumerate(self._ids)}
        if len(self._index) != len(comps):
            raise ValueError(f"scenario {scenario.name!r}: duplicate component ids")
        self._n = n = len(comps)
        self._step_ms = round(scenario.step_s * 1000)
        self._now = scenario.start_ms
        self._end = scenario.start_ms + round(scenario.duration_s * 1000)

        def arr(attr: str) -> np.ndarray:
            return np.array([float(getattr(c, attr)) for c in comps])

        self._p = {a: arr(a) for a in (
            "cores", "mem_gib", "link_mbit", "base_cpu", "base_mem_pct", "base_disk_pct",
            "base_io", "base_net", "base_latency_ms", "base_error_rate", "amp_day", "amp_week",
            "phase_h", "replicas")}
        self._base_load = np.column_stack(
            (self._p["base_cpu"], self._p["base_io"], self._p["base_net"]))
        self._rx_per_unit = 0.5 * self._p["link_mbit"] * 125_000.0  # half the link is rx
        self._hosts = [c.host for c in comps]
        host_ids = {h: k for k, h in enumerate(dict.fromkeys(self._hosts))}
        self._host_of = np.array([host_ids[h] for h in self._hosts], int)
        # a host's pools are sized by its components' base: cores, IO (1 each), link
        self._host_w = np.column_stack((self._p["cores"], np.ones(n), self._p["link_mbit"]))
        self._tags = [{"source": "simulator", "scenario": scenario.name, "role": c.role}
                      for c in comps]
        self._edges(comps)
        self._incidents(scenario.incidents)
        self._trace = scenario.demand
        if self._trace is not None:
            if self._trace.load.shape[:2] != (n, 3) or self._trace.mem_gib.shape[0] != n:
                raise ValueError(f"scenario {scenario.name!r}: trace demand does not match "
                                 f"its {n} components")
            self._traced = ~np.isnan(self._trace.load[:, 0, 0])
            self._trace = TraceDemand(self._trace.ts_ms, np.nan_to_num(self._trace.load),
                                      np.nan_to_num(self._trace.mem_gib), self._trace.source)

        self._rng = np.random.Generator(np.random.PCG64(scenario.seed))
        self._phi = math.exp(-scenario.step_s / _NOISE_TAU_S)
        self._innov = math.sqrt(1.0 - self._phi**2)
        self._eps = self._rng.standard_normal((n, _N_NOISE))
        self._load1m: np.ndarray | None = None
        self._alpha = 1.0 - math.exp(-scenario.step_s / 60.0)

        self._grants: dict[tuple[int, str], _Grant] = {}  # one lease per (component, resource)
        self._outcomes: dict[str, dict[str, Any]] = {}
        self._log: list[dict[str, Any]] = []
        self._caps()

        # usage accounting (base-capacity units): the latest step's, and sums of unit-seconds
        self._alloc = np.zeros((n, len(POOLS)))
        self._used = np.zeros((n, len(POOLS)))
        self._alloc_s = np.zeros((n, len(POOLS)))
        self._used_s = np.zeros((n, len(POOLS)))
        self._failing = np.zeros((n, len(_FAIL_METRICS)), dtype=bool)
        self._intervals: dict[tuple[int, int], list[list[int | None]]] = {}
        self._last = self._compute(self._now)  # state at start_ms; not emitted

    # -- construction -------------------------------------------------------------------
    def _edges(self, comps: tuple[Component, ...]) -> None:
        src, dst, w = [], [], []
        for i, c in enumerate(comps):
            for d in c.depends_on:
                if d not in self._index:
                    raise ValueError(f"{c.id}: depends on unknown component {d!r}")
                same_role = sum(1 for e in c.depends_on
                                if comps[self._index[e]].role == comps[self._index[d]].role)
                src.append(self._index[d])
                dst.append(i)
                w.append(1.0 / same_role)  # p99 through one of several replicas
        self._src, self._dst, self._w = np.array(src, int), np.array(dst, int), np.array(w)
        depth: dict[int, int] = {}

        def level(i: int, path: frozenset[int]) -> int:
            if i in path:
                raise ValueError(f"dependency cycle through {self._ids[i]!r}")
            if i not in depth:
                deps = [self._index[d] for d in comps[i].depends_on]
                depth[i] = 1 + max((level(j, path | {i}) for j in deps), default=-1)
            return depth[i]

        self._depth = max((level(i, frozenset()) for i in range(len(comps))), default=0)
        self._reach: np.ndarray | None = None
        if src and len(comps) <= _DENSE_MAX:  # small fleets: one matmul per step
            a = np.zeros((len(comps), len(comps)))
            np.add.at(a, (dst, src), w)
            reach = np.eye(len(comps))
            for _ in range(self._depth):  # I + A + A^2 + ...; exact, the graph is a DAG
                reach = np.eye(len(comps)) + a @ reach
            self._reach = reach
        self._dependents: dict[int, set[int]] = {i: set() for i in range(len(comps))}
        for up, down in zip(src, dst, strict=True):
            self._dependents[up].add(down)

    def _incidents(self, incidents: tuple[Incident, ...]) -> None:
        for inc in incidents:
            if inc.component not in self._index:
                raise ValueError(f"incident {inc.kind}: unknown component {inc.component!r}")
        k = len(incidents)
        self._k = k
        self._i_comp = np.array([self._index[i.component] for i in incidents], int)
        self._i_start = np.array([i.start_ms for i in incidents], np.int64)
        self._i_end = np.array([i.end_ms for i in incidents], np.int64)
        ramp = np.array([i.params["ramp_s"] for i in incidents])
        self._i_ramp = ramp
        self._i_taumax = np.array([i.params["tau_max_s"] for i in incidents])
        self._i_exp = np.array([i.shape == "exponential" for i in incidents], bool)
        growth = np.array([i.params.get("growth", 1.0) for i in incidents])
        self._i_k = np.where(self._i_exp, np.log(np.maximum(growth, 1.0)) / ramp, 0.0)
        self._i_den = np.where(self._i_exp, np.expm1(self._i_k * ramp), 1.0)
        self._i_w = np.array([[i.effects.get(ch, 0.0) for ch in _CHANNELS] for i in incidents]
                             ).reshape(k, len(_CHANNELS))
        # a pulse falls back linearly over its last fall_s (0: the effect ends at once)
        self._i_fall = np.array([i.params.get("fall_s", 0.0) for i in incidents]) * 1000.0

    def _caps(self, t: int | None = None) -> None:
        """Capacities in force at ``t`` (default: the next step)."""
        n = self._n
        t = self._now + self._step_ms if t is None else t
        add = {p: np.zeros(n) for p in ("cpu", "mem", "net", "io", "replicas")}
        for g in self._grants.values():
            add[g.pool][g.comp] += g.value(t)
        # a scale-down (negative grant) stops at MIN_CAPACITY of the base; replicas at one;
        # an increase at what the host has left (HOST_HEADROOM)
        caps3 = np.maximum(1.0 + np.column_stack((add["cpu"], add["io"], add["net"])),
                           MIN_CAPACITY)
        self._caps3 = np.column_stack([self._host_bound(caps3[:, j], self._host_w[:, j], pool)
                                       for j, pool in enumerate(("cpu", "io", "net"))])
        mem = self._p["mem_gib"]
        self._mem_total = mem * self._host_bound(
            np.maximum(1.0 + add["mem"] / mem, MIN_CAPACITY), mem, "mem")
        r0 = self._p["replicas"]
        self._share = r0 / np.maximum(r0 + add["replicas"], 1.0)
        expiries = [g.expires_ms for g in self._grants.values() if g.expires_ms is not None]
        self._next_expiry = min(expiries, default=None)
        # until every change has acted (and warmed up), the capacities move step by step
        self._settle_ms = max((max(g.effective_ms, g.warm_ms) for g in self._grants.values()),
                              default=None)

    def _host_bound(self, x: np.ndarray, w: np.ndarray, pool: str) -> np.ndarray:
        """Capacities ``x`` (base = 1) bounded by their hosts: a host has ``HOST_HEADROOM``
        times its components' base (``w``, absolute units); what those at or under their base
        hold is theirs, and the rest is shared by those over it in proportion to their asks."""
        h = self._host_of
        over = np.maximum(x - 1.0, 0.0) * w
        held = np.minimum(x, 1.0) * w
        room = HOST_HEADROOM[pool] * np.bincount(h, w) - np.bincount(h, held)
        asked = np.bincount(h, over)
        scale = np.where(asked > room, np.maximum(room, 0.0) / np.maximum(asked, 1e-12), 1.0)
        out: np.ndarray = np.where(x > 1.0, 1.0 + (x - 1.0) * scale[h], x)
        return out

    # -- the model ----------------------------------------------------------------------
    def _effects(self, t: int) -> np.ndarray:
        eff = np.zeros((self._n, len(_CHANNELS)))
        if self._k == 0:
            return eff
        active = (t >= self._i_start) & (t < self._i_end)
        if not active.any():
            return eff
        tau = np.minimum(np.maximum((t - self._i_start) / 1000.0, 0.0), self._i_taumax)
        g = np.where(self._i_exp, np.expm1(self._i_k * tau) / self._i_den, tau / self._i_ramp)
        if self._i_fall.any():
            left = (self._i_end - t) / np.maximum(self._i_fall, 1.0)
            g = g * np.where(self._i_fall > 0, np.minimum(left, 1.0), 1.0)
        np.add.at(eff, self._i_comp, (g * active)[:, None] * self._i_w)
        return eff

    def _compute(self, t: int) -> np.ndarray:
        p, n = self._p, self._n
        e = self._eps = self._phi * self._eps + self._innov * self._rng.standard_normal(
            (n, _N_NOISE))
        s = seasonal(t, p["amp_day"], p["amp_week"], p["phase_h"])
        eff = self._effects(t)
        # demand for cpu, io, net (columns), in units of the base capacity; then utilisation
        level = self._base_load * s[:, None]
        mem_used = p["mem_gib"] * (p["base_mem_pct"] / 100.0 * (1.0 + MEM_SEASONAL * (s - 1.0))
                                   + 0.008 * e[:, 3]) + eff[:, 3]
        if self._trace is not None:  # demand read from a trace replaces the model's level
            t_load, t_mem = self._trace.at(t)
            level = np.where(self._traced[:, None], t_load, level)
            mem_used = np.where(self._traced, t_mem + p["mem_gib"] * 0.008 * e[:, 3] + eff[:, 3],
                                mem_used)
        raw = level * (1.0 + _LOAD_NOISE * e[:, :3]) + eff[:, :3]
        demand = raw * self._share[:, None]
        x = demand / self._caps3
        out = np.empty((n, len(METRICS)))
        mem = out[:, 1] = np.minimum(np.maximum(100.0 * mem_used / self._mem_total, 0.0), 100.0)
        out[:, 2] = np.minimum(np.maximum(p["base_disk_pct"] + 0.05 * e[:, 4] + eff[:, 4], 0.0),
                               100.0)
        over = x.max(axis=1)
        rho = np.minimum(over, 0.995)
        lat = (p["base_latency_ms"] * np.exp(0.1 * e[:, 5])
               * (1.0 + 0.5 * rho**4 / (1.0 - rho))
               * (1.0 + 0.15 * np.maximum(mem - 90.0, 0.0)))
        err = (p["base_error_rate"] * np.exp(0.3 * e[:, 6])
               + 0.25 * _sigmoid((over - 1.02) / 0.015)
               + 0.2 * _sigmoid((mem - 98.5) / 0.5))
        if self._reach is not None:  # a dependency's latency and errors add to its dependents'
            lat, err = (self._reach @ np.column_stack((lat, err))).T
        elif self._src.size:
            own_lat, own_err = lat, err
            for _ in range(self._depth):
                lat = own_lat + np.bincount(self._dst, self._w * lat[self._src], minlength=n)
                err = own_err + np.bincount(self._dst, self._w * err[self._src], minlength=n)
        runq = p["cores"] * x[:, 0]
        if self._load1m is None:
            self._load1m = runq
        self._load1m = self._load1m + self._alpha * (runq - self._load1m)
        np.minimum(x, 1.0, out=x)  # utilisation saturates at 1; the queue keeps growing
        out[:, 0] = x[:, 0]
        out[:, 3:5] = x[:, 1:]
        out[:, 5] = self._rx_per_unit * np.minimum(demand[:, 2], self._caps3[:, 2])
        out[:, 6] = lat
        out[:, 7] = np.minimum(err, 1.0)
        out[:, 8] = self._load1m
        self._account(raw, mem_used)
        return out

    def _account(self, raw: np.ndarray, mem_used: np.ndarray) -> None:
        """Allocated and used capacity per pool, in units of the component's base capacity;
        replicas multiply every pool (a replica is a whole pod or instance: its CPU, memory,
        disk and link), though only cpu, io and net demand is spread over them."""
        cap3 = self._caps3 / self._share[:, None]
        mem = self._p["mem_gib"]
        alloc, used = self._alloc, self._used
        alloc[:, 0], alloc[:, 2], alloc[:, 3] = cap3[:, 0], cap3[:, 1], cap3[:, 2]
        alloc[:, 1] = self._mem_total / mem / self._share  # each replica has its memory
        used3 = np.minimum(np.maximum(raw, 0.0), cap3)
        used[:, 0], used[:, 2], used[:, 3] = used3[:, 0], used3[:, 1], used3[:, 2]
        used[:, 1] = (np.minimum(np.maximum(mem_used, 0.0), self._mem_total) / mem
                      / self._share)

    def _advance(self) -> np.ndarray:
        t = self._now = self._now + self._step_ms
        recompute = self._settle_ms is not None and self._settle_ms > t - self._step_ms
        if self._next_expiry is not None and self._next_expiry <= t:
            for key, g in [(k, g) for k, g in self._grants.items()
                           if g.expires_ms is not None and g.expires_ms <= t]:
                del self._grants[key]
                self._log.append({"ts_ms": t, "command_id": g.command_id, "event": "EXPIRED",
                                  "component": self._ids[g.comp], "resource": g.resource})
            recompute = True
        if recompute:
            for key in [k for k, g in self._grants.items()
                        if g.delta == 0.0 and g.effective_ms <= t]:
                del self._grants[key]  # a release that has acted
            self._caps(t)
        m = self._last = self._compute(t)
        self._alloc_s += self._alloc * self.scenario.step_s
        self._used_s += self._used * self.scenario.step_s
        failing = m[:, _FAIL_COLS] >= _FAIL_THR
        changed = failing != self._failing
        if changed.any():
            for i, j in zip(*np.nonzero(changed), strict=True):
                if failing[i, j]:
                    self._intervals.setdefault((int(i), int(j)), []).append([t, None])
                else:
                    self._intervals[(int(i), int(j))][-1][1] = t
            self._failing = failing
        return m

    # -- public API ---------------------------------------------------------------------
    def now_ms(self) -> int:
        """Event time of the latest samples (``start_ms`` before the first step)."""
        return self._now

    def done(self) -> bool:
        """True once the scenario's duration is covered; ``step`` may still go on."""
        return self._now >= self._end

    def step(self) -> list[dict[str, Any]]:
        """Advance one step; one MetricSample dict per component at the new ``ts``."""
        rows = self._advance().tolist()
        t = self._now
        m0, m1, m2, m3, m4, m5, m6, m7, m8 = METRICS  # a literal dict is 2x faster than zip
        return [{"component": cid, "host": host, "ts": t, "tags": tags.copy(), "metrics": {
                    m0: r[0], m1: r[1], m2: r[2], m3: r[3], m4: r[4], m5: r[5], m6: r[6],
                    m7: r[7], m8: r[8]}}
                for cid, host, r, tags in zip(self._ids, self._hosts, rows, self._tags,
                                              strict=True)]

    def run(self, until_ms: int | None = None) -> Iterator[list[dict[str, Any]]]:
        """Steps until the scenario is done, or until the next step would pass ``until_ms``."""
        while not self.done() and (until_ms is None or self._now + self._step_ms <= until_ms):
            yield self.step()

    def usage(self) -> dict[str, np.ndarray]:
        """The latest step's ``allocated`` and ``used`` capacity, arrays (components x POOLS)
        in units of each component's base capacity (copies)."""
        return {"allocated": self._alloc.copy(), "used": self._used.copy()}

    def usage_totals(self) -> dict[str, np.ndarray]:
        """``allocated`` and ``used`` capacity summed over the steps so far, in base-capacity
        seconds (components x POOLS); divide by 3600 for base-capacity hours."""
        return {"allocated": self._alloc_s.copy(), "used": self._used_s.copy()}




def bench(seconds: float = 2.0, n_components: int = 1000, seed: int = 42) -> float:
    """Simulated component-hours per wall-clock second, samples built as dicts."""
    fleet = Fleet(scenario("fleet", seed=seed, n_components=n_components))
    steps, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        fleet.step()
        steps += 1
    return steps * n_components * fleet.scenario.step_s / 3600.0 / elapsed


if __name__ == "__main__":
    print(f"{bench():,.0f} component-hours/s")
