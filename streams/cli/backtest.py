"""``forewarn backtest {nab,fleet,smd,trace}``'s command line and tables."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from streams.cli.closedloop import add_arguments as add_closed_loop_arguments
from streams.cli.closedloop import cmd as closed_loop_cmd
from streams.cli.trace import add_parser as add_trace_parser
from streams.cli.trace import cmd as trace_cmd
from streams.lab.backtest import (
    DETECTORS,
    backtest_fleet,
    backtest_nab,
    backtest_smd,
    clean_json,
    fleet_table,
    nab_table,
    smd_table,
)

if TYPE_CHECKING:
    from processors.config import PipelineConfig

# -- command line ----------------------------------------------------------------------------


def add_subcommand(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    b = sub.add_parser("backtest", help="score the pipeline on NAB, the simulator or SMD")
    kinds = b.add_subparsers(dest="kind", required=True)
    n = kinds.add_parser("nab", help="NAB: per-row anomaly scores, NAB score under 3 profiles")
    n.add_argument("--data", required=True, help="NAB folder (data/, combined_windows.json)")
    n.add_argument("--out", required=True)
    n.add_argument("--detector", default="forewarn",
                   help=f"one of {', '.join(DETECTORS)}, a comma list, or all")
    n.add_argument("--cv", action="store_true",
                   help="also leave-one-category-out cross-validation of the novelty and "
                        "likelihood detectors' parameter grids (OUT/cv-<detector>.json)")
    f = kinds.add_parser("fleet", help="simulated fleet: breach prediction vs ground truth")
    f.add_argument("--scenario", default="mixed",
                   help="a scenario name, names separated by commas, or all")
    f.add_argument("--seed", type=int, default=42)
    f.add_argument("--threshold", type=float, help="alarm threshold (default: risk_threshold)")
    f.add_argument("--fleet-components", type=int, help="size of the 'fleet' scenario")
    f.add_argument("--out", default="out/backtest-fleet")
    add_closed_loop_arguments(f)
    s = kinds.add_parser("smd", help="SMD: point-wise F1 with and without point-adjust")
    s.add_argument("--data", required=True, help="folder of <machine>/{train,test,test_label}.csv")
    s.add_argument("--out", default="out/backtest-smd")
    s.add_argument("--cv", action="store_true",
                   help="also tune the joint model's grid on each machine and score the "
                        "other (OUT/cv.json)")
    s.add_argument("--anomaly-model", default="joint", choices=("joint", "novelty", "hst"),
                   help="the pipeline's anomaly model for this run (default: joint, the "
                        "multivariate per-component score)")
    add_trace_parser(kinds)
    for p in (n, f, s):
        p.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    for p in (f, s):
        p.add_argument("--json", action="store_true", help="print one JSON object, no table")
    b.set_defaults(func=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    from streams.cli.commands import settings_of
    from streams.lab.report import text_table
    from streams.runtime.worker import pipeline_config

    settings = settings_of(args)
    base = pipeline_config(settings)
    if args.kind == "nab":
        return _nab_cmd(args, base)
    if args.kind == "trace":
        return trace_cmd(args, base)
    if args.kind == "fleet" and args.policy:
        return closed_loop_cmd(args, base)
    if args.kind == "fleet":
        threshold = args.threshold if args.threshold is not None else settings.risk_threshold
        found = _fleet_result(args, base, threshold)
        if found is None:
            return 2
        result, (headers, rows) = found, fleet_table(found)
    else:
        result = _smd_result(args, base)
        headers, rows = smd_table(result)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(clean_json(result), option=orjson.OPT_SORT_KEYS))
        sys.stdout.write("\n")
    else:
        print(text_table(headers, rows))
        for f in result.get("cv", {}).get("folds", []):
            print(f"tuned on {f['tuned_on']} -> {f['scored']}: F1 {f['f1']:.3f} (P "
                  f"{f['precision']:.2f} R {f['recall']:.2f}), event F1 {f['event_f1']:.3f}; "
                  f"{f['config']} threshold {f['threshold']:.3f}")
        print(f"written {args.out}/scores.json, {args.out}/index.html")
    return 0


def cv_detector(base: PipelineConfig) -> str:
    """The lab grid (``streams.lab.grids.GRIDS``) of the pipeline's NAB detector under ``base``:
    ``novelty`` with ``anomaly_hold``, ``novelty-recordgap`` with ``anomaly_confirm`` too
    (s23), ``novelty-floor`` with ``anomaly_confirm_floor`` (s24), ``-coarse`` with
    ``anomaly_coarse`` (its grid has no confirmation), ``-nohold`` for the suppressor before
    s19."""
    if base.anomaly_hold and base.anomaly_confirm and not base.anomaly_coarse:
        return "novelty-floor" if base.anomaly_confirm_floor else "novelty-recordgap"
    return ("novelty-coarse" if base.anomaly_coarse else "novelty") + (
        "" if base.anomaly_hold else "-nohold")


def _nab_cmd(args: argparse.Namespace, base: PipelineConfig) -> int:
    from streams.lab.report import text_table

    chosen = DETECTORS if args.detector == "all" else tuple(args.detector.split(","))
    unknown = [d for d in chosen if d not in DETECTORS]
    if unknown:
        print(f"forewarn: unknown detector(s) {unknown}; use {DETECTORS} or all",
              file=sys.stderr)
        return 2
    result = backtest_nab(args.data, args.out, chosen, base, args.jobs)
    headers, rows, _ = nab_table(result)
    c = result["corpus"]
    print(f"NAB subset: {c['files']} files, {c['windows']} windows (published rows: full "
          "corpus, 58 files / 116 windows; indicative, not comparable digit for digit)")
    print(text_table(headers, rows))
    print(f"written {args.out}/scores.json, {args.out}/index.html, {args.out}/results/")
    if args.cv:
        from streams.lab.cv import main as cv_main

        for det in (cv_detector(base), "likelihood"):
            print(f"\nleave-one-category-out, {det} detector:")
            cv_main(["nab", "--data", args.data, "--detector", det,
                     "--out", f"{args.out}/cv-{det}.json"])
    return 0


def _fleet_result(args: argparse.Namespace, base: PipelineConfig, threshold: float
                  ) -> dict[str, Any] | None:
    """The open-loop fleet backtest's result, or None (after one error line) on a bad scenario."""
    from streams.cli.closedloop import scenario_overrides
    from streams.sim.scenarios import scenario_names

    try:
        names = scenario_names(args.scenario, args.trace_data)
    except ValueError as exc:
        print(f"forewarn: {exc}", file=sys.stderr)
        return None
    if "trace" in names and not args.trace_data:
        print("forewarn: scenario 'trace' needs --trace-data DIR", file=sys.stderr)
        return None
    over = scenario_overrides(args)
    return backtest_fleet(names, args.seed, base, threshold, args.out, args.jobs, over)


def _smd_result(args: argparse.Namespace, base: PipelineConfig) -> dict[str, Any]:
    from dataclasses import replace

    result = backtest_smd(args.data, replace(base, anomaly_model=args.anomaly_model),
                          args.out, args.jobs)
    if args.cv:
        from streams.lab.backtest import write_json
        from streams.lab.cv import smd_cv

        result["cv"] = smd_cv(args.data)
        write_json(Path(args.out) / "cv.json", result["cv"])
    return result
