"""``forewarn backtest fleet --policy ...``: the closed loop. A seeded simulator scenario runs
under one allocation policy, and the fleet's own series say how well it held its SLAs and at
what cost in capacity.

Each step, the fleet's samples go through the same :class:`processors.pipeline.Pipeline` as the
open-loop backtest (with the scenario's dependencies); then

* ``none`` applies nothing;
* ``reactive`` is Kubernetes' HorizontalPodAutoscaler (:mod:`actuators.hpa`): ``REPLICAS``
  on the observed utilisation, reading which pods are ready;
* ``reactive-vertical`` resizes each pool's cgroup/tc knob on the observed utilisation
  (:class:`actuators.reactive.ReactivePolicy`, HPA's rule applied in place);
* ``forewarn`` is :class:`actuators.fleetsizing.FleetSizing`: forecast demand over each
  action's lead time, vertical knobs within the host, replicas beyond, the risk scores as
  the override;
* ``engine`` feeds the risk scores to :class:`actuators.engine.AllocationEngine` alone (health
  signals too, where the engine has ``on_health``) and ticks it at the step's time.

Commands act on the fleet from the first step at or after ``ts + delay_s`` (at least the next
step); outcomes go back to the policy. Figures (definitions in docs/closedloop.md):

* ``violation_minutes``: component-minutes with any health rule in FAIL (the pipeline's
  health evaluator: FAIL thresholds, ``for_s``, hysteresis), each step counting ``step_s``;
  ``violation_minutes_relievable`` leaves out the steps whose only FAILs are on metrics no
  resource relieves (``disk.used_pct``);
* ``resource_hours``: allocated capacity in units of each component's base capacity, summed over
  the pools (cpu, mem, io, net) and components, times hours;
* ``slack``: sum over steps, components and pools of (allocated - used), over the sum of
  allocated (Autopilot's "limit minus usage over limit", capacity-weighted).

Pure apart from the process pool: event time only, so the same scenario, seed and policy give
the same JSON byte for byte.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from processors.health import Status
from processors.pipeline import Pipeline, PipelineConfig

POLICIES = ("none", "reactive", "reactive-vertical", "forewarn", "engine")
UNRELIEVABLE = frozenset({"disk.used_pct"})  # no resource of the command set relieves these

Record = dict[str, Any]


def engine_config(overrides: Mapping[str, Any] | None = None) -> Any:
    """The engine's default config with ``overrides`` (field -> value) replaced."""
    from actuators.config import EngineConfig

    cfg = EngineConfig()
    if not overrides:
        return cfg
    names = {f.name for f in dataclasses.fields(EngineConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        from schemas.errors import ConfigError

        raise ConfigError(f"EngineConfig has no {unknown}; fields: {sorted(names)}")
    return dataclasses.replace(cfg, **dict(overrides))


class _Controller:
    """One policy behind one face: observe a step, take outcomes, say what to do."""

    def __init__(self, policy: str, sc: Any, engine: Mapping[str, Any] | None) -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")
        self.policy = policy
        self.hosts = {c.id: c.host for c in sc.components}
        self.engine: Any = None
        self.engine_outcomes: dict[str, int] = {}
        self.per_sample: Any = None  # on_sample(sample, ready) -> commands; on_outcome
        if policy == "engine":
            from actuators.engine import AllocationEngine

            self.engine = AllocationEngine(engine_config(engine))
        elif policy == "reactive":
            from actuators.hpa import HorizontalAutoscaler

            self.per_sample = HorizontalAutoscaler(
                min_replicas={c.id: c.replicas for c in sc.components})
        elif policy == "reactive-vertical":
            from actuators.reactive import ReactivePolicy

            vertical = ReactivePolicy(base={c.id: base_capacity(c) for c in sc.components})
            self.per_sample = _NoReady(vertical)
        elif policy == "forewarn":
            self.per_sample = fleet_sizing(sc)

    def on_step(self, samples: Sequence[Record], health: Sequence[Record],
                risk: Sequence[Record], now_ms: int,
                ready: Mapping[str, tuple[int, int]]) -> list[Record]:
        out: list[Record] = []
        if self.per_sample is not None:
            on_risk = getattr(self.per_sample, "on_risk", None)
            if on_risk is not None:
                for r in risk:
                    on_risk(r)
            for s in samples:
                out += self.per_sample.on_sample(s, ready[s["component"]][0])
        if self.engine is not None:
            on_health = getattr(self.engine, "on_health", None)
            if on_health is not None:
                for h in health:
                    got = on_health(h)
                    out += list(got) if isinstance(got, list) else []
            for r in risk:
                out += self.engine.on_risk(r, self.hosts[r["component"]])
            out += self.engine.tick(now_ms)
            for o in self.engine.drain_outcomes():
                self.engine_outcomes[o["status"]] = self.engine_outcomes.get(o["status"], 0) + 1
        return out

    def on_outcome(self, outcome: Mapping[str, Any]) -> None:
        if self.engine is not None:
            self.engine.on_outcome(outcome)
        if self.per_sample is not None:
            self.per_sample.on_outcome(outcome)


class _NoReady:
    """A per-sample policy that reads no replica readiness (it scales no replicas)."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy

    def on_sample(self, sample: Record, ready: int) -> list[Record]:
        out: list[Record] = self.policy.on_sample(sample)
        return out

    def on_outcome(self, outcome: Mapping[str, Any]) -> None:
        self.policy.on_outcome(outcome)


def fleet_sizing(sc: Any) -> Any:
    """forewarn's :class:`actuators.fleetsizing.FleetSizing` for a scenario's components:
    their base, their hosts' headroom, and the lead of a new replica on its platform."""
    from actuators.fleetsizing import FleetSizing, FleetSizingConfig, Workload
    from streams.sim.incidents import HOST_HEADROOM, provisioning

    prov = provisioning(sc.platform, "REPLICAS")
    cfg = FleetSizingConfig(replica_lead_s=round(prov.up_hi_s + prov.warmup_s),
                            vertical_lead_s=round(provisioning(sc.platform, "CPU_WEIGHT").up_hi_s))
    return FleetSizing([Workload(c.id, c.host, c.cores, c.mem_gib, c.link_mbit, c.replicas,
                                 dict(HOST_HEADROOM)) for c in sc.components], cfg)


def base_capacity(comp: Any) -> dict[str, float]:
    """A simulated component's base capacity in each reactive resource's unit (what the
    simulator reads an amount against: weights of 100, the memory in MiB, the link in Mbit/s)."""
    return {"CPU_WEIGHT": 100.0, "IO_WEIGHT": 100.0, "MEMORY_HIGH": comp.mem_gib * 1024.0,
            "NET_BANDWIDTH": float(comp.link_mbit)}


def run_policy(name: str, seed: int, policy: str, base: PipelineConfig,
               overrides: Mapping[str, Any] | None = None, delay_s: float | None = None,
               engine: Mapping[str, Any] | None = None) -> Record:
    """One scenario under one policy; the figures of the module docstring, JSON-ready."""
    from streams.sim.simulator import Fleet, scenario

    sc = scenario(name, seed=seed, **dict(overrides or {}))
    fleet = Fleet(sc)
    deps = tuple((c.id, d) for c in sc.components for d in c.depends_on)
    pipe = Pipeline(dataclasses.replace(base, dependencies=deps))
    ctl = _Controller(policy, sc, engine)
    threshold = ctl.engine.config.risk_threshold if ctl.engine is not None else \
        engine_config(engine).risk_threshold
    step_ms = round(sc.step_s * 1000)
    delay_ms = step_ms if delay_s is None else max(round(delay_s * 1000), 0)
    ids = [c.id for c in sc.components]
    fail = np.zeros(len(ids), dtype=np.int64)
    fail_relievable = np.zeros(len(ids), dtype=np.int64)
    queue: list[tuple[int, Record]] = []
    actions: dict[str, int] = {}
    statuses: dict[str, int] = {}
    alarmed: dict[str, bool] = {}
    predicted = 0
    unrelievable = {r.name for r in pipe.config.rules if r.metric in UNRELIEVABLE}
    while not fleet.done():
        t_next = fleet.now_ms() + step_ms
        due = [cmd for at, cmd in queue if at <= t_next]
        queue = [(at, cmd) for at, cmd in queue if at > t_next]
        for cmd in due:
            outcome = fleet.apply(cmd)
            statuses[outcome["status"]] = statuses.get(outcome["status"], 0) + 1
            ctl.on_outcome(outcome)
        samples = fleet.step()
        now = fleet.now_ms()
        health: list[Record] = []
        risk: list[Record] = []
        for s in samples:
            out = pipe.ingest(s)
            health += out.health
            risk += out.risk
        for r in risk:
            high = r["risk"] >= threshold
            if high and not alarmed.get(r["component"], False):
                predicted += 1
            alarmed[r["component"]] = high
        for cmd in ctl.on_step(samples, health, risk, now, fleet.replicas()):
            actions[cmd["action"]] = actions.get(cmd["action"], 0) + 1
            queue.append((int(cmd["ts"]) + delay_ms, cmd))
        for i, cid in enumerate(ids):
            failing = {n for n, st in pipe.evaluator.statuses(cid).items() if st == Status.FAIL}
            if failing:
                fail[i] += 1
                fail_relievable[i] += bool(failing - unrelievable)
    return _figures(name, seed, policy, sc, fleet, ctl, delay_ms, fail, fail_relievable,
                    actions, statuses, len(queue), predicted, threshold)


def _figures(name: str, seed: int, policy: str, sc: Any, fleet: Any, ctl: _Controller,
             delay_ms: int, fail: np.ndarray, fail_relievable: np.ndarray,
             actions: Mapping[str, int], statuses: Mapping[str, int], left: int,
             predicted: int, threshold: float) -> Record:
    """A run's figures (module docstring), JSON-ready."""
    from streams.sim.simulator import POOLS

    ids = [c.id for c in sc.components]
    totals = fleet.usage_totals()
    alloc, used = totals["allocated"], totals["used"]
    minutes = sc.step_s / 60.0
    return {
        "scenario": name, "seed": seed, "policy": policy, "step_s": sc.step_s,
        "duration_s": sc.duration_s, "components": len(ids),
        "incidents": [{"kind": i.kind, "component": i.component, "metric": i.metric}
                      for i in sc.incidents],
        "delay_s": delay_ms / 1000.0,
        "violation_minutes": float(fail.sum() * minutes),
        "violation_minutes_relievable": float(fail_relievable.sum() * minutes),
        "violation_minutes_by_component": {c: float(fail[i] * minutes)
                                           for i, c in enumerate(ids) if fail[i]},
        "allocated_hours": float(alloc.sum() / 3600.0),
        "used_hours": float(used.sum() / 3600.0),
        "resource_hours": float(alloc.sum() / 3600.0),
        "resource_hours_by_pool": {p: float(alloc[:, j].sum() / 3600.0)
                                   for j, p in enumerate(POOLS)},
        "slack": _slack(alloc.sum(), used.sum()),
        "slack_by_pool": {p: _slack(alloc[:, j].sum(), used[:, j].sum())
                          for j, p in enumerate(POOLS)},
        "commands": int(sum(actions.values())),
        "commands_by_action": dict(sorted(actions.items())),
        "actuations": int(statuses.get("APPLIED", 0)),
        "outcomes": dict(sorted(statuses.items())),
        "engine_outcomes": dict(sorted(ctl.engine_outcomes.items())),
        "not_applied_by_end": left,
        "breaches_predicted": predicted,
        "risk_threshold": threshold,
    }


def _slack(allocated: float, used: float) -> float:
    return float((allocated - used) / allocated) if allocated > 0 else 0.0


SUMMED = ("violation_minutes", "violation_minutes_relievable", "allocated_hours", "used_hours",
          "resource_hours", "commands", "actuations", "breaches_predicted")


def summarise(runs: Sequence[Record]) -> Record:
    """Per policy: the runs by scenario and their total (sums; slack pooled over capacity)."""
    by_policy: dict[str, Record] = {}
    for r in runs:
        entry = by_policy.setdefault(r["policy"], {"scenarios": {}})
        entry["scenarios"][r["scenario"]] = r
    for entry in by_policy.values():
        rs = list(entry["scenarios"].values())
        total: Record = {k: sum(r[k] for r in rs) for k in SUMMED}
        total["slack"] = _slack(total["allocated_hours"], total["used_hours"])
        pools = rs[0]["resource_hours_by_pool"] if rs else {}
        total["resource_hours_by_pool"] = {p: sum(r["resource_hours_by_pool"][p] for r in rs)
                                           for p in pools}
        entry["total"] = total
    return {"policies": by_policy, "reductions": reductions(by_policy)}


def reductions(by_policy: Mapping[str, Record]) -> Record:
    """% fewer violation minutes of forewarn (and reactive) than the others, per scenario and
    in total; None where the reference had none."""
    out: Record = {}
    pairs = [(a, b) for a in ("forewarn", "engine", "reactive-vertical", "reactive")
             for b in ("none", "reactive", "reactive-vertical")
             if a != b and a in by_policy and b in by_policy]
    for a, b in pairs:
        key = f"{a}_vs_{b}"
        out[key] = {"total": _cut(by_policy[a]["total"], by_policy[b]["total"])}
        for name, run in by_policy[a]["scenarios"].items():
            ref = by_policy[b]["scenarios"].get(name)
            if ref is not None:
                out[key][name] = _cut(run, ref)
    return out


def _cut(run: Mapping[str, Any], ref: Mapping[str, Any]) -> Record:
    def pct(k: str) -> float | None:
        return None if ref[k] <= 0 else 100.0 * (ref[k] - run[k]) / ref[k]

    return {"violation_minutes_pct": pct("violation_minutes"),
            "violation_minutes_relievable_pct": pct("violation_minutes_relievable"),
            "resource_hours_pct": pct("resource_hours")}


def closed_loop(names: Sequence[str], seed: int, policies: Sequence[str], base: PipelineConfig,
                jobs: int = 1, overrides: Mapping[str, Mapping[str, Any]] | None = None,
                delay_s: float | None = None, engine: Mapping[str, Any] | None = None
                ) -> Record:
    """Every scenario under every policy (over ``jobs`` processes); :func:`summarise`d, with
    the totals also at the top level: ``violation_minutes``, ``resource_hours``, ``slack``
    (of the single policy, or of ``forewarn`` when several ran)."""
    from streams.lab.backtest import pmap

    bad = [p for p in policies if p not in POLICIES]
    if bad:
        raise ValueError(f"unknown policies {bad}; known: {', '.join(POLICIES)}")
    tasks = [(n, seed, p, base, dict((overrides or {}).get(n, {})), delay_s, engine)
             for n in names for p in policies]
    result = summarise(pmap(run_policy, tasks, jobs))
    main = "forewarn" if "forewarn" in policies else policies[0]
    total = result["policies"][main]["total"]
    head = {k: total[k] for k in ("violation_minutes", "violation_minutes_relievable",
                                  "resource_hours", "slack", "commands", "actuations",
                                  "breaches_predicted")}
    return {"seed": seed, "policy": main, "policies_run": list(policies),
            "engine_overrides": dict(engine or {}),
            "delay_s": delay_s, **head, **result}
