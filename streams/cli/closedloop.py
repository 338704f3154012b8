"""The closed loop's command line and table: ``forewarn backtest fleet --policy ...``.

:func:`add_arguments` adds the closed-loop options to ``backtest fleet``; :func:`cmd` runs when
``--policy`` is given (without it, ``backtest fleet`` stays the open-loop breach backtest).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from processors.pipeline import PipelineConfig
from streams.lab.closedloop import POLICIES, closed_loop

CHOICES = (*POLICIES, "all")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy", metavar="|".join(CHOICES),
                   help="closed loop: run the scenario(s) under this allocation policy, or "
                        "several (comma-separated; all: every one side by side); without it, "
                        "the open-loop breach backtest")
    p.add_argument("--delay-s", type=float,
                   help="closed loop: actuation delay in event time (default: one step)")
    p.add_argument("--engine", action="append", default=[], metavar="KEY=VALUE",
                   help="closed loop: an EngineConfig field for the forewarn policy "
                        "(repeatable), e.g. --engine release_hold_s=1800")
    p.add_argument("--platform", choices=("k8s", "aws", "instant"),
                   help="how fast REPLICAS arrive: k8s (pods, 60-180 s + 60 s warm-up; the "
                        "default), aws (instances, 3-5 min + 2 min warm-up), instant")
    p.add_argument("--trace-data", metavar="DIR",
                   help="the 'trace' scenario's demand: a trace file or directory (Bitbrains "
                        "or ts,component,metric,value CSV); with it, 'all' includes 'trace'")
    p.add_argument("--trace-vms", type=int, default=10,
                   help="the 'trace' scenario: how many traces (components), default 10")


def scenario_overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Per scenario name, the overrides the options ask for."""
    from streams.sim.scenarios import SCENARIOS

    over: dict[str, dict[str, Any]] = {n: {} for n in SCENARIOS}
    if getattr(args, "fleet_components", None):
        over["fleet"]["n_components"] = args.fleet_components
    if getattr(args, "trace_data", None):
        over["trace"].update(data=args.trace_data, vms=args.trace_vms)
    if getattr(args, "platform", None):
        for o in over.values():
            o["platform"] = args.platform
    return {n: o for n, o in over.items() if o}


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``["lease_s=3600", "margin=0.2"]`` -> ``{"lease_s": 3600, "margin": 0.2}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--engine {item!r}: expected KEY=VALUE")
        value: Any
        try:
            value = int(raw)
        except ValueError:
            try:
                value = float(raw)
            except ValueError:
                value = raw
        out[key.strip()] = value
    return out


def parse_policies(spec: str) -> list[str]:
    """``"all"`` or ``"reactive,forewarn"`` -> the policies, in POLICIES order."""
    asked = list(POLICIES) if spec == "all" else [p.strip() for p in spec.split(",")]
    bad = [p for p in asked if p not in POLICIES]
    if bad or not asked:
        raise ValueError(f"--policy {spec!r}: unknown {bad}; known: {', '.join(CHOICES)}")
    return [p for p in POLICIES if p in asked]


def cmd(args: argparse.Namespace, base: PipelineConfig) -> int:
    from streams.lab.backtest import clean_json, write_json
    from streams.sim.scenarios import scenario_names

    try:
        names = scenario_names(args.scenario, args.trace_data)
        engine = parse_overrides(args.engine)
        policies = parse_policies(args.policy)
    except ValueError as exc:
        print(f"forewarn: {exc}", file=sys.stderr)
        return 2
    if "trace" in names and not args.trace_data:
        print("forewarn: scenario 'trace' needs --trace-data DIR", file=sys.stderr)
        return 2
    over = scenario_overrides(args)
    result = closed_loop(names, args.seed, policies, base, args.jobs, over, args.delay_s, engine)
    write_json(Path(args.out) / "closedloop.json", result)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(clean_json(result), option=orjson.OPT_SORT_KEYS))
        sys.stdout.write("\n")
        return 0
    print(text(result))
    print(f"written {args.out}/closedloop.json")
    return 0


def table(result: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per scenario and policy, then the totals."""
    headers = ["scenario", "policy", "violation min", "relievable min", "resource-h", "slack %",
               "commands", "applied", "predicted", "fewer viol. vs none %",
               "fewer viol. vs reactive %", "resource-h vs reactive %"]
    pols = result["policies"]
    names = list(next(iter(pols.values()))["scenarios"]) if pols else []
    cuts = result["reductions"]
    rows = []
    for name in [*names, "total"]:
        for p in POLICIES:
            if p not in pols:
                continue
            r = pols[p]["total"] if name == "total" else pols[p]["scenarios"][name]
            rows.append([name, p, f"{r['violation_minutes']:.1f}",
                         f"{r['violation_minutes_relievable']:.1f}", f"{r['resource_hours']:.1f}",
                         f"{100 * r['slack']:.1f}", r["commands"], r["actuations"],
                         r["breaches_predicted"], _pct(cuts, f"{p}_vs_none", name),
                         _pct(cuts, f"{p}_vs_reactive", name),
                         _pct(cuts, f"{p}_vs_reactive", name, "resource_hours_pct", -1.0)])
    return headers, rows


def _pct(cuts: Mapping[str, Any], key: str, name: str, field: str = "violation_minutes_pct",
         sign: float = 1.0) -> str | None:
    v = cuts.get(key, {}).get(name, {}).get(field)
    return None if v is None else f"{sign * v:+.0f}" if sign < 0 else f"{v:.0f}"


def text(result: Mapping[str, Any]) -> str:
    from streams.lab.report import text_table

    headers, rows = table(result)
    eng = result.get("engine_overrides") or {}
    note = (f"seed {result['seed']}, actuation delay "
            f"{'one step' if result.get('delay_s') is None else str(result['delay_s']) + ' s'}"
            f", engine {'defaults' if not eng else eng}")
    return f"closed loop: {note}\n{text_table(headers, rows)}"
