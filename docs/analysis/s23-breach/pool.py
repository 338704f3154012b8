"""Pooled breach figures from ``diag13.py`` pickles: ``python pool.py DIR [NEW_DIR]``: every
scenario's pickle of DIR, or NEW_DIR's where it has one (a run of only the scenarios an
option can change), pooled with the backtest's own arithmetic (``pooled_figures``); one line:
episodes, precision, recall@5m, Brier, lead p50, false alarms per component-day, and which
scenarios came from NEW_DIR."""
import glob
import os
import pickle
import sys

from streams.lab.backtest import pooled_figures
from streams.lab.scoring.breach import RiskEvent

THR, H = 1 / 3, 900


def run(path: str) -> dict:
    d = pickle.load(open(path, "rb"))
    return {"scenario": os.path.basename(path)[:-4],
            "events": [RiskEvent(r[0], r[1], r[2], r[3]) for r in d["rows"]],
            "breaches": d["breaches"], "spans": d["spans"], "failing": d["failing"]}


def main() -> None:
    base = sys.argv[1]
    new = sys.argv[2] if len(sys.argv) > 2 else None
    names = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(base, "*.pkl")))
    took = [n for n in names if new and os.path.exists(os.path.join(new, n + ".pkl"))]
    runs = [run(os.path.join(new if n in took else base, n + ".pkl")) for n in names]
    a = pooled_figures(runs, THR, H)
    print(f"ep {a['episodes']} P {a['precision']:.3f} R5 {a['recall']['300']:.3f} "
          f"Brier {a['brier']:.4f} lead50 {a['lead_time_s']['median'] / 60:.1f} "
          f"FA/cd {a['false_alarms_per_component_day']:.2f} ({len(names)} scenarios; "
          f"from NEW: {','.join(took) or '-'})")


if __name__ == "__main__":
    main()
