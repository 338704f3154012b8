"""Pooled breach figures of ``forewarn backtest fleet --json`` outputs, one line a file:
``python pooled.py A.json [B.json ...]`` (episodes, precision, recall@5m, Brier, lead p50,
false alarms per component-day)."""
import json
import sys

for p in sys.argv[1:]:
    a = json.load(open(p))["scenarios"]["all"]
    print(f"{p.split('/')[-1]:24} ep {a['episodes']} P {a['precision']:.3f} "
          f"R5 {a['recall']['300']:.3f} Brier {a['brier']:.4f} "
          f"lead50 {a['lead_time_s']['median'] / 60:.1f} "
          f"FA/cd {a['false_alarms_per_component_day']:.2f}")
