"""``forewarn backtest trace``: right-sizing policies over real per-VM traces (the parser and
the table; the work is :func:`streams.lab.trace.backtest_trace`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from actuators.rightsize import KNOBS, POLICIES

CHOICES = (*POLICIES, "all")


def add_parser(
    kinds: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    t = kinds.add_parser("trace", help="right-sizing policies in a closed loop over real traces "
                                       "(Bitbrains GWA-T-12 files or a ts,component,metric,"
                                       "value CSV)")
    t.add_argument("--data", required=True,
                   help="a trace file or a folder of them (one or two levels; .csv, .csv.gz)")
    t.add_argument("--policy", choices=CHOICES, default="all",
                   help="one policy at its default knob, or all (each also over its knob "
                        "sweep; the default)")
    t.add_argument("--delay-s", type=int, default=300,
                   help="provisioning delay: an allocation acts this long after it is "
                        "decided (default 300, one Bitbrains step)")
    t.add_argument("--knob", action="append", default=[], metavar="NAME=V",
                   help="a policy's knob value in place of its default, by policy or knob "
                        "name (repeatable): " + ", ".join(f"{p}/{k[0]}={k[1]:g}"
                                                          for p, k in KNOBS.items()))
    t.add_argument("--fleet-prior", default="builtin", metavar="FILE",
                   help="forewarn's fleet prior for a young VM's memory sizing: a file, "
                        "'builtin' (the default: the prior shipped with forewarn, learnt on "
                        "the Bitbrains subset) or 'off' (docs/closedloop.md, session 25)")
    t.add_argument("--sweep", action="store_true",
                   help="sweep the knobs even for one policy (--policy all always does)")
    t.add_argument("--components", help="comma list of component ids (default: all)")
    t.add_argument("--start", metavar="TIME",
                   help="event-time window: only samples at or after TIME (Unix seconds, or "
                        "an ISO 8601 date / date-time, UTC unless it has an offset); every "
                        "policy starts cold at a component's first sample in the window")
    t.add_argument("--end", metavar="TIME",
                   help="only samples before TIME (exclusive, so --end T and --start T "
                        "split a trace without overlap); a component with no sample in "
                        "the window is left out")
    t.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    t.add_argument("--json", action="store_true", help="print one JSON object, no table")
    t.add_argument("--out", default="out/backtest-trace",
                   help="writes OUT/trace.json (what --json prints), OUT/runs.json (the sums "
                        "per component and knob) and OUT/index.html (default "
                        "out/backtest-trace)")
    return t


def parse_knobs(items: list[str]) -> dict[str, float]:
    """``["vpa=0.95", "lambda=0.03"]`` -> ``{"vpa": 0.95, "forewarn": 0.03}``."""
    by_name = {k[0]: p for p, k in KNOBS.items()}
    out: dict[str, float] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        policy = key if key in KNOBS else by_name.get(key)
        if not sep or policy is None:
            raise ValueError(f"--knob {item!r}: expected POLICY=V or KNOB=V, one of "
                             f"{sorted(KNOBS) + sorted(by_name)}")
        try:
            out[policy] = float(raw)
        except ValueError as exc:
            raise ValueError(f"--knob {item!r}: {raw!r} is not a number") from exc
    return out


def table(result: dict[str, Any]) -> str:
    from streams.lab.report import text_table

    rows = []
    for p, e in result["policies"].items():
        for key in ("total", "cpu", "mem"):
            f = e[key]
            rows.append([p, e["knob"]["default"], key, f["violation_minutes"],
                         f["unmet_demand_pct"], 100 * f["slack"], f["resource_hours"],
                         f.get("resource_hours_vs_static")])
    out = [text_table(["policy", "knob", "resource", "violation min", "unmet %", "slack %",
                       "resource-h", "vs static"], rows)]
    mrows = [[peer, res, 100 * m["slack"], m["peer_violation_minutes"],
              m["forewarn_violation_minutes"], m["ratio"],
              "yes" if m["met"] else ("–" if m["met"] is None else "no")]
             for peer, per in result.get("matched", {}).items() for res, m in per.items()]
    if mrows:
        out.append("\nmatched slack (forewarn's curve at each peer's default):")
        out.append(text_table(["peer", "resource", "slack %", "peer viol. min",
                               "forewarn viol. min", "ratio", "<= 0.5x"], mrows))
    return "\n".join(out)


def cmd(args: argparse.Namespace, base: Any) -> int:
    from actuators.fleetprior import load, named
    from schemas.errors import ConfigError
    from streams.lab.backtest import clean_json, write_json
    from streams.lab.trace import backtest_trace
    from streams.lab.trace.html import write_report
    from streams.sim.traces import parse_time

    try:
        knobs = parse_knobs(args.knob)
    except ValueError as exc:
        print(f"forewarn: {exc}", file=sys.stderr)
        return 2
    policies = list(POLICIES) if args.policy == "all" else [args.policy]
    comps = args.components.split(",") if args.components else None
    try:
        start = parse_time(args.start) if args.start is not None else None
        end = parse_time(args.end) if args.end is not None else None
        prior = named(args.fleet_prior)
        if prior:
            load(prior)  # a bad file: one line here, not a worker's traceback
        result = backtest_trace(args.data, policies, delay_s=args.delay_s,
                                sweep=True if args.sweep else None, knobs=knobs,
                                jobs=args.jobs, base=base, components=comps,
                                start=start, end=end,
                                options={"forewarn": {"fleet_prior": prior}})
    except (ConfigError, OSError) as exc:
        print(f"forewarn: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    write_json(out / "runs.json", result.pop("runs"))  # per component and knob: the sums
    write_json(out / "trace.json", result)
    write_report(result, out)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(clean_json(result), option=orjson.OPT_SORT_KEYS))
        sys.stdout.write("\n")
    else:
        print(table(result))
        print(f"written {out}/trace.json, {out}/index.html")
    return 0
