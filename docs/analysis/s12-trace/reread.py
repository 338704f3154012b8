"""Read a finished `backtest trace` run's curves again with the current reading rule
(streams.lab.trace.summary.matched / dominance), without rerunning it: all VMs and each fold.

    .venv/bin/python docs/analysis/s12-trace/reread.py out/hC-final3/trace.json
"""

from __future__ import annotations

import json
import sys

from streams.lab.trace.summary import dominance, matched


def show(name: str, by: dict) -> None:
    print(f"## {name}")
    met = 0
    for peer, cells in matched(by).items():
        for res, m in cells.items():
            ratio = "-" if m["ratio"] is None else f"{m['ratio']:.2f}"
            fw = m["forewarn_violation_minutes"]
            fw_s = "-" if fw is None else f"{fw:,.0f}"
            met += bool(m["met"])
            print(f"matched {peer:9} {res}: slack {m['slack']:.4f} peer "
                  f"{m['peer_violation_minutes']:,.0f} forewarn {fw_s} ratio {ratio} "
                  f"met {m['met']}")
    print(f"met {met} of 8")
    for peer, cells in dominance(by).items():
        for res, d in cells.items():
            worst = "-" if d["worst_ratio"] is None else f"{d['worst_ratio']:.2f}"
            print(f"dominance {peer:9} {res}: overlap {d['overlap']} below {d['below']} "
                  f"worst {worst}")


def main(path: str) -> None:
    with open(path) as f:
        doc = json.load(f)
    show("all", doc["policies"])
    for key, fold in doc["folds"].items():
        show(key, fold["policies"])


if __name__ == "__main__":
    main(sys.argv[1])
