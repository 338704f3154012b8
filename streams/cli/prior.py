"""`forewarn prior learn`: a fleet prior for forewarn's memory sizing, learnt from a fleet's own
exported history.

It reads traces in every form `forewarn backtest trace` accepts (Bitbrains GWA-T-12 .csv or
.csv.gz files, a folder of them one or two levels deep, or a long CSV with the header
ts,component,metric,value and the metrics cpu, mem and optionally mem.capacity), runs forewarn's
memory forecasters cold over each component (the sizer's own bookkeeping, no sizing) and writes
the pooled outcome ratios, each component weighing 1, as a prior file (forewarn-fleet-prior/1).
Same input, same bytes. A component with no memory demand, or whose samples span less than
--min-days, is left out (one line on stderr); none left, or no input: one error line, exit 2.

Point forewarn at the file: `forewarn backtest trace --fleet-prior FILE`, and live the setting
sizing_fleet_prior (FOREWARN_SIZING_FLEET_PRIOR=FILE forewarn actuate --sizing forewarn). It
seeds a new component's memory histograms at a week-old history's weight and is gone after 7
days (docs/closedloop.md, "A fleet prior for a cold start").

    forewarn prior learn --data export.csv --out prior.json
    forewarn prior learn --data DIR --out p.json --vms 51-100 --end 2013-07-15T22:00
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from schemas.errors import ConfigError


def add_subcommand(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from streams.cli.commands import documented_parser

    p = sub.add_parser("prior", help="a fleet prior for forewarn's memory sizing of new "
                                     "components: learn one from a fleet's history")
    verbs = p.add_subparsers(dest="verb", required=True)
    t = documented_parser(verbs, "learn", "learn a fleet prior from traces", __doc__ or "")
    t.add_argument("--data", required=True,
                   help="a trace file or a folder of them (one or two levels; .csv, .csv.gz; "
                        "Bitbrains or ts,component,metric,value)")
    t.add_argument("--out", required=True, metavar="FILE", help="the prior file to write")
    t.add_argument("--start", metavar="TIME",
                   help="learn on samples at or after TIME only (Unix seconds or ISO 8601, "
                        "UTC unless it has an offset); each component starts cold there")
    t.add_argument("--end", metavar="TIME", help="learn on samples before TIME only")
    t.add_argument("--vms", metavar="A-B[,C-D]",
                   help="only components whose id ends in a number in these ranges "
                        "(Bitbrains 2013-7/17 is 17)")
    t.add_argument("--components", help="only these component ids (comma list)")
    t.add_argument("--delay-s", type=int, default=300,
                   help="the provisioning delay the sizer plans for, as in backtest trace "
                        "(default 300)")
    t.add_argument("--min-days", type=float, default=1.0,
                   help="leave out a component whose samples span less (default 1)")
    t.set_defaults(func=cmd)


def parse_vms(text: str) -> list[tuple[int, int]]:
    """``"1-50,60"`` -> ``[(1, 50), (60, 60)]``; a ConfigError for anything else."""
    out = []
    for item in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", item)
        if m is None:
            raise ConfigError(f"--vms {text!r}: expected ranges like 1-50,60")
        lo = int(m.group(1))
        out.append((lo, int(m.group(2) or lo)))
    return out


def number(component: str) -> int | None:
    """The number a component id ends in (``2013-7/17`` -> 17), ``None`` without one."""
    m = re.search(r"(\d+)$", component)
    return None if m is None else int(m.group(1))


def cmd(args: argparse.Namespace) -> int:
    from actuators.fleetprior import dumps
    from actuators.sizerbase import DAY
    from streams.lab.trace.prior import learn_traces
    from streams.sim.traces import load_traces, parse_time

    start = parse_time(args.start) if args.start is not None else None
    end = parse_time(args.end) if args.end is not None else None
    comps = args.components.split(",") if args.components else None
    traces = load_traces(args.data, comps, start, end)
    if args.vms:
        ranges = parse_vms(args.vms)
        traces = [t for t in traces if (n := number(t.component)) is not None
                  and any(lo <= n <= hi for lo, hi in ranges)]
        if not traces:
            raise ConfigError(f"{args.data}: no component id ending in a number in {args.vms}")
    doc, left = learn_traces(traces, args.delay_s, args.min_days * DAY, start, end)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dumps(doc), encoding="utf-8")
    n = doc["components"]
    print(f"written {out}: {n} component{'' if n == 1 else 's'}, "
          f"{sum(len(v) for v in doc['forecasters'].values())} buckets")
    if left:
        print(f"left out {len(left)}: {'; '.join(left)}", file=sys.stderr)
    return 0


__all__ = ["add_subcommand", "cmd", "number", "parse_vms"]
