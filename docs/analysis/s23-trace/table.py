"""The goal's cells from `backtest trace` outputs, side by side: per run directory (OUT of
`forewarn backtest trace ... --out OUT`), all VMs and the folds by VM number (1-50, 51-100:
the command's own folds split its list in two halves, which moves with a window's missing
VMs), recomputed from `runs.json` with the command's code (`summarise`, `readings`): the 8
matched-slack ratios (goal <= 0.5x; flat-end reading, the README's), how many are met (and
under the strict reading), and the curve check (forewarn's curve below each peer's over
20-80 % slack: how many of the cells where both curves reach it,
the worst ratio); `--dom` prints the 8 worst ratios.

python docs/analysis/s23-trace/table.py NAME=DIR [NAME=DIR ...] [--md] [--dom]"""
import json
import sys
from pathlib import Path

from streams.lab.trace.summary import readings, summarise

PEERS = ("static", "reactive", "vpa", "autopilot")
CELLS = [(p, r) for p in PEERS for r in ("cpu", "mem")]
FOLDS = {"all": (1, 100), "1-50": (1, 50), "51-100": (51, 100)}


def ratio(x: float | None) -> str:
    """A ratio; "n/a": no ratio (the peer has 0 minutes, or the curves share no slack in
    20-80 %: VPA memory's lies above 80 %)."""
    return "n/a" if x is None else f"{x:.2f}x"


def rows_of(name: str, d: str, dom_cells: bool) -> list[list[str]]:
    runs = json.loads((Path(d) / "runs.json").read_text())
    pols = list(runs[0]["policies"])
    rows = []
    for label, (lo, hi) in FOLDS.items():
        part = [r for r in runs if lo <= int(r["component"].rsplit("/", 1)[-1]) <= hi]
        rd = readings(summarise(part, pols, per_vm=False))
        cells = [rd["matched"][p][r]["ratio"] for p, r in CELLS]
        dom = [rd["dominance"][p][r] for p, r in CELLS]
        met = sum(bool(rd["matched"][p][r]["met"]) for p, r in CELLS)
        smet = sum(bool(rd["matched_strict"][p][r]["met"]) for p, r in CELLS)
        below = sum(bool(x["below"]) for x in dom)
        both = sum(x["below"] is not None for x in dom)
        worst = max((x["worst_ratio"] for x in dom if x["worst_ratio"] is not None),
                    default=float("nan"))
        shown = [ratio(x["worst_ratio"]) for x in dom] if dom_cells else list(map(ratio, cells))
        rows.append([name, f"{label} ({len(part)})", *shown, f"{met} of 8", f"{smet} of 8",
                     f"{below} of {both} ({worst:.2f}x)"])
    return rows


def main(args: list[str]) -> None:
    md, dom = "--md" in args, "--dom" in args
    runs = [a.split("=", 1) for a in args if not a.startswith("--")]
    head = ["run", "VMs", *(f"{p} {r}" for p, r in CELLS), "met", "strict met",
            "curve below (worst)"]
    rows = [row for name, d in runs for row in rows_of(name, d, dom)]
    if md:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    for r in (head, *rows):
        print("  ".join(str(x).rjust(w) for x, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main(sys.argv[1:])
