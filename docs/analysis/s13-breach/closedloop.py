"""Closed-loop totals and per-scenario violation minutes of ``forewarn backtest fleet
--policy forewarn,reactive --json`` outputs side by side: ``python closedloop.py A.json B.json``."""
import json
import sys

runs = [json.load(open(p)) for p in sys.argv[1:]]
for pol in ("forewarn", "reactive"):
    per = [r["policies"][pol]["scenarios"] for r in runs]
    print(pol)
    for s in per[0]:
        print(f"  {s:24s}", "  ".join(f"{p[s]['violation_minutes']:8.1f} min "
                                      f"{p[s]['resource_hours']:9.1f} h" for p in per))
    tot = [(sum(p[s]["violation_minutes"] for s in p), sum(p[s]["resource_hours"] for s in p),
            sum(p[s]["commands"] for s in p)) for p in per]
    print("  total                   ", "  ".join(f"{v:8.1f} min {h:9.1f} h {c} cmds"
                                                   for v, h, c in tot))
