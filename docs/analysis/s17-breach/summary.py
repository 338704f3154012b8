"""One line per run directory of ``diag13.py`` / ``diag17.py``: ``python summary.py DIR...``
prints the pooled figures (``figures.json``'s ``all``: the backtest's own arithmetic) and
those of ``daily_peaks`` and ``weekly``."""
import json
import os
import sys


def line(f: dict) -> str:
    return (f"ep {f['episodes']} P {f['precision']:.3f} R@5m {f['recall']['300']:.3f} "
            f"Brier {f['brier']:.4f} lead p50 {f['lead_time_s']['median'] / 60:.1f} min "
            f"FA/comp-day {f['false_alarms_per_component_day']:.2f}")


for d in sys.argv[1:]:
    s = json.load(open(os.path.join(d, "figures.json")))["scenarios"]
    print(d, "| all:", line(s["all"]))
    for n in ("daily_peaks", "weekly"):
        if n in s:
            print("   ", n, line(s[n]))
