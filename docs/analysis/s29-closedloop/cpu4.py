"""The four CPU cells of the goal to four digits, per fold (all, VMs 1-50, 51-100), with the met
count and the worst curve ratio (`docs/analysis/s23-trace/table.py`'s reading), and forewarn's
CPU at its default knob (lambda 0.01): violation minutes, slack, resource-hours.

python docs/analysis/s29-closedloop/cpu4.py NAME=DIR [NAME=DIR ...]"""
import json
import sys
from pathlib import Path

from streams.lab.trace.summary import readings, summarise

PEERS = ("static", "reactive", "vpa", "autopilot")
FOLDS = {"all": (1, 100), "1-50": (1, 50), "51-100": (51, 100)}


def main(argv: list[str]) -> None:
    for arg in argv:
        name, d = arg.split("=", 1)
        runs = json.loads((Path(d) / "runs.json").read_text())
        pols = list(runs[0]["policies"])
        for label, (lo, hi) in FOLDS.items():
            part = [r for r in runs if lo <= int(r["component"].rsplit("/", 1)[-1]) <= hi]
            s = summarise(part, pols, per_vm=False)
            rd = readings(s)
            cells = " ".join(f"{p} {rd['matched'][p]['cpu']['ratio'] or 0:.4f}x" for p in PEERS)
            met = sum(bool(rd["matched"][p][r]["met"]) for p in PEERS for r in ("cpu", "mem"))
            doms = [rd["dominance"][p][r] for p in PEERS for r in ("cpu", "mem")]
            worst = max((x["worst_ratio"] for x in doms if x.get("below") is not None
                         and x.get("worst_ratio") is not None), default=None)
            c = s["forewarn"]["cpu"]
            print(f"{name} {label} ({len(part)}): {cells}; met {met}/8; worst curve {worst:.4f}x; "
                  f"fw cpu default {c['violation_minutes']:,.1f} min @ {100 * c['slack']:.2f} %, "
                  f"{c['resource_hours']:,.1f} resource-h")


if __name__ == "__main__":
    main(sys.argv[1:])
