"""Are the allocation engine's decisions unchanged? ``python -m streams.bench.engine_identity``.

Feeds the engine random event streams (risk scores in quiet, hot and random spells, backend
outcomes, health signals, ticks, preferences, operator verdicts, snapshot/restore round trips)
under four configurations, and prints per stream one SHA-256 over everything it returned and
everything it holds (commands, drained outcomes, snapshots and their parts, acted intervals).
Seeded: the same tree gives the same digests. Before and after a change to ``actuators/``::

    PYTHONPATH=/tmp/old-tree python streams/bench/engine_identity.py 400 --save /tmp/e.json
    python streams/bench/engine_identity.py 400 --check /tmp/e.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Callable
from typing import Any

from actuators.engine import AllocationEngine, EngineConfig

T0 = 1_700_000_000_000
METRICS = ["cpu.util", "mem.used_pct", "disk.io_util", "net.util", "latency.p99"]
LEGACY = {"risk_threshold": 0.6, "release_threshold": 0.3, "release_hold_s": 300, "lease_s": 900,
          "margin": 0.1, "holdout_max_risk": 1.0, "shrink_below": 0.5, "shrink_hold_s": 600,
          "max_shrink": 0.25, "shrink_target": 0.8, "shrink_revert": 0.9, "shrink_settle_s": 0,
          "shrink_step": 1.0}
CONFIGS: list[dict[str, Any]] = [
    {}, LEGACY,
    {"holdout": 0.3, "cooldown_s": 60, "max_changes_per_hour": 3, "shrink_hold_s": 300,
     "max_new_components_per_host": 3, "new_component_window_s": 600},
    {"host_capacity": {"h0": {"CPU_WEIGHT": 60.0, "MEMORY_HIGH": 500.0},
                       "h1": {"CPU_WEIGHT": 30.0}},
     "cooldown_s": 30, "lease_s": 300, "release_hold_s": 60, "shrink_settle_s": 120,
     "preempt_criticality": 6},
]


def _threshold(metric: str) -> float:
    return 95.0 if metric == "mem.used_pct" else 0.95


def _score(component: str, ts: int, value: float, forecasts: list[dict[str, Any]],
           breach: str | None, horizon_s: int) -> dict[str, Any]:
    return {"component": component, "ts": ts, "risk": value, "anomaly": 0.5,
            "horizon_s": horizon_s,
            "breach": None if breach is None else {
                "metric": breach, "threshold": _threshold(breach), "eta_s": 300.0,
                "probability": value},
            "forecasts": forecasts, "contributors": {},
            "model": {"version": "t", "samples_seen": 100, "warm": True, "source": "c"}}


def risk(rng: random.Random, mode: str, component: str, ts: int) -> dict[str, Any]:
    """A RiskScore of a quiet, hot or random spell."""
    if mode != "random":
        value = 0.02 * rng.random() if mode == "quiet" else 0.9 + 0.1 * rng.random()
        level = 0.2 if mode == "quiet" else 1.0
        forecasts = [{"metric": m, "horizon_s": 300, "mean": level * _threshold(m) * 0.9,
                      "lower": 0.0, "upper": level * _threshold(m) * rng.uniform(0.9, 1.1)}
                     for m in ("cpu.util", "mem.used_pct")]
        return _score(component, ts, value, forecasts, "cpu.util", 900)
    value = rng.choice([rng.random(), rng.random() ** 3, 0.9 + 0.1 * rng.random()])
    if rng.random() < 0.05:
        value = float("nan")
    forecasts = []
    for m in rng.sample(METRICS, rng.randint(0, 3)):
        upper = _threshold(m) * rng.uniform(0.1, 1.3)
        forecasts.append({"metric": m, "horizon_s": rng.choice([300, 900]),
                          "mean": upper * 0.9, "lower": upper * 0.5, "upper": upper})
    score = _score(component, ts, value, forecasts,
                   rng.choice(METRICS) if rng.random() < 0.8 else None,
                   rng.choice([0, 600, 900]))
    if rng.random() < 0.5:
        score["contributors"] = {rng.choice(METRICS): 0.5}
    return score


class Stream:
    """One seeded event stream through one engine, every output folded into a digest."""

    def __init__(self, seed: int, config: dict[str, Any]) -> None:
        self.rng, self.config = random.Random(seed), config
        self.engine = AllocationEngine(EngineConfig(**config))
        self.comps = [f"svc-{i}" for i in range(self.rng.randint(2, 8))]
        self.hosts = {c: f"h{self.rng.randint(0, 2)}" for c in self.comps}
        self.modes = dict.fromkeys(self.comps, "random")
        self.cmds: list[dict[str, Any]] = []
        self.digest = hashlib.sha256()

    def emit(self, tag: str, value: Any) -> None:
        self.digest.update(tag.encode())
        self.digest.update(json.dumps(value, sort_keys=True, default=str).encode())

    def step(self, ts: int) -> None:
        rng, eng, c = self.rng, self.engine, self.rng.choice(self.comps)
        r = rng.random()
        if rng.random() < 0.03:
            self.modes[c] = rng.choice(["quiet", "hot", "random"])
        if r < 0.6:
            score = risk(rng, self.modes[c], c, ts - rng.choice([0, 0, 0, 5000]))
            out = eng.on_risk(score, self.hosts[c])
            self.cmds.extend(out)
            self.emit("risk", out)
        elif r < 0.72 and self.cmds:
            cmd = rng.choice(self.cmds[-20:])
            status = rng.choice(["APPLIED", "APPLIED", "APPLIED", "FAILED", "REJECTED"])
            eng.on_outcome({"command_id": cmd["command_id"], "component": cmd["component"],
                            "ts": ts, "status": status, "detail": "", "backend": "x",
                            "effect": None})
        elif r < 0.8:
            status = rng.choice(["PASS", "WARN", "FAIL"])
            eng.on_health({"component": c, "ts": ts, "status": status,
                           "metric": rng.choice(METRICS), "value": rng.random(),
                           "threshold": 0.95 if status != "PASS" else None, "rule": "x",
                           "heartbeat": False})
        elif r < 0.88:
            self.emit("tick", eng.tick(ts))
        else:
            self.rare(rng, c, ts, r)
        self.emit("drain", eng.drain_outcomes())

    def rare(self, rng: random.Random, c: str, ts: int, r: float) -> None:
        """A preference, an operator verdict, or a snapshot/restore round trip."""
        if r < 0.93:
            self.engine.on_preference({
                "selector": rng.choice([c, "svc-*", "*"]), "ts": ts,
                "criticality": rng.randint(0, 10),
                "allowed_resources": rng.choice([None, ["CPU_WEIGHT", "MEMORY_HIGH"]]),
                "maxima": rng.choice([{}, {"CPU_WEIGHT": 20.0}]),
                "paused": rng.random() < 0.15})
        elif r < 0.96:
            verdict = rng.choice(["FALSE_POSITIVE", "TRUE_POSITIVE"])
            self.emit("fb", self.engine.on_feedback({"component": c, "verdict": verdict}))
        else:
            snap = json.loads(json.dumps(self.engine.snapshot()))
            self.engine = AllocationEngine(EngineConfig(**self.config))
            self.engine.restore(snap)

    def views(self) -> None:
        eng = self.engine
        self.emit("snap", eng.snapshot())
        self.emit("leases", eng.leases())
        self.emit("acted", {c: eng.acted(c) for c in self.comps})
        self.emit("parts", [eng.snapshot_shared(), eng.state_components(),
                            [eng.snapshot_component(c) for c in self.comps]])

    def run(self) -> str:
        ts = T0
        for i in range(self.rng.randint(100, 600)):
            ts += self.rng.choice([1000, 15000, 60000, 120000])
            self.step(ts)
            if i % 25 == 0:
                self.views()
        self.emit("final", self.engine.snapshot())
        return self.digest.hexdigest()


def digests(n: int, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    out: dict[str, Any] = {"streams": n, "commands": 0, "digests": []}
    for seed in range(n):
        stream = Stream(seed, CONFIGS[seed % len(CONFIGS)])
        out["digests"].append(stream.run())
        out["commands"] += len(stream.cmds)
        progress(f"{seed} {out['digests'][-1]}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("streams", type=int, nargs="?", default=400)
    ap.add_argument("--save", help="write the digests to this JSON file")
    ap.add_argument("--check", help="compare with a saved run; exit 1 on any difference")
    args = ap.parse_args(argv)
    got = digests(args.streams)
    print(f"{got['streams']} streams, {got['commands']} commands, digest of all: "
          f"{hashlib.sha256(''.join(got['digests']).encode()).hexdigest()[:16]}")
    if args.save:
        with open(args.save, "w") as fh:
            json.dump(got, fh)
    if args.check:
        with open(args.check) as fh:
            want = json.load(fh)
        theirs = want["digests"]
        bad = [i for i, d in enumerate(got["digests"]) if i >= len(theirs) or d != theirs[i]]
        if bad or got["commands"] != want["commands"]:
            print(f"DIFFERENT: streams {bad[:10]} (of {len(bad)})", file=sys.stderr)
            return 1
        print("identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
