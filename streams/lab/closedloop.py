"""``forewarn backtest fleet --policy ...``: the closed loop. A seeded simulator scenario runs
under one allocation policy, and the fleet's own series say how well it held its SLAs and at
what cost in capacity.

Each step, the fleet's samples go through the same :class:`processors.pipeline.Pipeline` as the
open-loop backtest (with the scenario's dependencies); then

* ``none`` applies nothing;
* ``reactive`` feeds the observed samples to :class:`actuators.reactive.ReactivePolicy`;
* ``forewarn`` feeds the risk scores to :class:`actuators.engine.AllocationEngine` (health
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

POLICIES = ("none", "reactive", "forewarn", "sizing")
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
        self.reactive: Any = None
        self.engine_outcomes: dict[str, int] = {}
        if policy == "forewarn":
            from actuators.engine import AllocationEngine

            self.engine = AllocationEngine(engine_config(engine))
        elif policy == "reactive":
            from actuators.reactive import ReactivePolicy

            self.reactive = ReactivePolicy(base={c.id: base_capacity(c) for c in sc.components})
        self.sizing: SizingPolicy | None = SizingPolicy(sc) if policy == "sizing" else None

    def on_step(self, samples: Sequence[Record], health: Sequence[Record],
                risk: Sequence[Record], now_ms: int) -> list[Record]:
        out: list[Record] = []
        if self.reactive is not None:
            for s in samples:
                out += self.reactive.on_sample(s)
        if self.sizing is not None:
            out += self.sizing.on_step(samples, risk, now_ms)
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
        if self.reactive is not None:
            self.reactive.on_outcome(outcome)
        if self.sizing is not None:
            self.sizing.on_outcome(outcome)


# pool -> (resource that drives it, metric observed, metric -> utilisation, sizer resource)
SIZING_POOLS = {"cpu": ("CPU_WEIGHT", "cpu.util", 1.0, "cpu"),
                "mem": ("MEMORY_HIGH", "mem.used_pct", 0.01, "mem"),
                "io": ("IO_WEIGHT", "disk.io_util", 1.0, "disk"),
                "net": ("NET_BANDWIDTH", "net.util", 1.0, "net")}
MHZ_PER_CORE = 2926.0
GIB_KB = 1024.0 * 1024.0


class SizingPolicy:
    """The closed loop's ``sizing`` policy: ``actuators.rightsize``'s forecast-driven
    ``forewarn`` sizer (#11 section 2; the same objects ``backtest trace`` runs), one per
    component and pool, turned into the simulator's commands.

    Interim adapter until ``actuators/`` has the fleet-level face that turns samples into
    commands; it decides nothing itself. Demand is what the samples show, in absolute units:
    ``cpu.util`` x the allocation in force x cores x 2,926 MHz; ``mem.used_pct`` x GiB; IO
    and network in base-capacity units x 2,926 (the sizer prices them like one core). Every
    ``decision_s`` it asks each sizer for the allocation over the next provisioning delay and
    decision interval, and sends a GRANT (over base, in the pool's resource's unit, bounded as
    the reactive policy is) when it moved by at least the resource's ``min_amount``; at most
    one command per pool in flight. Risk scores go to the sizers as their override. The
    allocation asked for is the sizer's divided by ``target`` (0.8): the simulated SLA is
    utilisation (FAIL at 0.95, latency FAIL near 0.9), not demand over allocation."""

    def __init__(self, sc: Any, decision_s: int = 60, knob: float | None = None,
                 target: float = 0.8) -> None:
        from actuators.pool import DEFAULT_RESOURCES
        from actuators.rightsize import make_sizer
        from streams.sim.incidents import provisioning

        self.decision_ms = decision_s * 1000
        self.target = target  # the simulated SLA fails at 0.95 and latency climbs from ~0.85
        self.resources = DEFAULT_RESOURCES
        self.comps = {c.id: c for c in sc.components}
        self.base = {c.id: base_capacity(c) for c in sc.components}
        self.sizers: dict[tuple[str, str], Any] = {}
        self.scale: dict[tuple[str, str], float] = {}
        self.ratio: dict[tuple[str, str], float] = {}  # allocation in force, base = 1
        self.pending: dict[tuple[str, str], tuple[str, float]] = {}
        self.next_ms: int | None = None
        for c in sc.components:
            for pool, (res, _, _, kind) in SIZING_POOLS.items():
                unit = c.cores * MHZ_PER_CORE if pool == "cpu" else \
                    c.mem_gib * GIB_KB if pool == "mem" else MHZ_PER_CORE
                delay = provisioning(sc.platform, res).up_hi_s
                self.scale[(c.id, pool)] = unit
                self.ratio[(c.id, pool)] = 1.0
                self.sizers[(c.id, pool)] = make_sizer(
                    "forewarn", None if knob is None else (knob,), capacity=unit,
                    step_s=decision_s, delay_s=int(delay), resource=kind)

    def on_step(self, samples: Sequence[Record], risk: Sequence[Record], now_ms: int
                ) -> list[Record]:
        ts = now_ms // 1000
        for s in samples:
            m = s["metrics"]
            for pool, (_, metric, k, _) in SIZING_POOLS.items():
                v = m.get(metric)
                if isinstance(v, int | float):
                    key = (s["component"], pool)
                    self.sizers[key].observe(ts, float(v) * k * self.ratio[key] * self.scale[key])
        for r in risk:
            for pool in SIZING_POOLS:
                self.sizers[(r["component"], pool)].on_risk(r)
        if self.next_ms is not None and now_ms < self.next_ms:
            return []
        self.next_ms = now_ms + self.decision_ms
        out = []
        for (cid, pool), sz in self.sizers.items():
            want = float(sz.recommend(ts)[0]) / self.scale[(cid, pool)] / self.target
            cmd = self._command(cid, pool, want, now_ms)
            if cmd is not None:
                out.append(cmd)
        return out

    def _command(self, cid: str, pool: str, want: float, now_ms: int) -> Record | None:
        import hashlib

        from actuators.contract import make_command

        key = (cid, pool)
        if key in self.pending:
            return None
        res = SIZING_POOLS[pool][0]
        spec, base = self.resources[res], self.base[cid][res]
        want = min(max(want, 0.1), 1.0 + spec.capacity / base)
        amount = spec.round_up((want - 1.0) * base)
        held = (self.ratio[key] - 1.0) * base
        if abs(amount - held) < spec.min_amount or amount == held:
            return None
        action = "RELEASE" if amount == 0.0 else "GRANT"
        comp = self.comps[cid]
        digest = hashlib.sha1(f"sizing|{cid}|{res}|{action}|{amount}|{now_ms}".encode())
        cmd = make_command(digest.hexdigest(), cid, comp.host, now_ms, res, action, amount,
                           spec.unit, 0, f"forecast demand: {want:.2f}x base", 0.0, 0)
        self.pending[key] = (cmd["command_id"], 1.0 + amount / base)
        return cmd

    def on_outcome(self, outcome: Mapping[str, Any]) -> None:
        cid = outcome.get("command_id")
        for key, (pid, ratio) in list(self.pending.items()):
            if pid == cid:
                if outcome.get("status") == "APPLIED":
                    self.ratio[key] = ratio
                del self.pending[key]
                return


def base_capacity(comp: Any) -> dict[str, float]:
    """A simulated component's base capacity in each reactive resource's unit (what the
    simulator reads an amount against: weights of 100, the memory in MiB, the link in Mbit/s)."""
    return {"CPU_WEIGHT": 100.0, "IO_WEIGHT": 100.0, "MEMORY_HIGH": comp.mem_gib * 1024.0,
            "NET_BANDWIDTH": float(comp.link_mbit)}


def run_policy(name: str, seed: int, policy: str, base: PipelineConfig,
               overrides: Mapping[str, Any] | None = None, delay_s: float | None = None,
               engine: Mapping[str, Any] | None = None) -> Record:
    """One scenario under one policy; the figures of the module docstring, JSON-ready."""
    from streams.sim.simulator import POOLS, Fleet, scenario

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
        for cmd in ctl.on_step(samples, health, risk, now):
            actions[cmd["action"]] = actions.get(cmd["action"], 0) + 1
            queue.append((int(cmd["ts"]) + delay_ms, cmd))
        for i, cid in enumerate(ids):
            failing = {n for n, st in pipe.evaluator.statuses(cid).items() if st == Status.FAIL}
            if failing:
                fail[i] += 1
                fail_relievable[i] += bool(failing - unrelievable)
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
        "not_applied_by_end": len(queue),
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
    pairs = [(a, b) for a in ("forewarn", "sizing", "reactive")
             for b in ("none", "reactive", "forewarn")
             if a != b and a in by_policy and b in by_policy and (a, b) != ("reactive",
                                                                            "forewarn")]
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
