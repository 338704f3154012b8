"""Pooled breach figures over scenarios from per-scenario ``backtest fleet --json`` outputs:
``python pool.py BASE.json [OVERRIDE.json ...]`` takes every scenario of BASE, replaced by the
same scenario of a later file where it has one (e.g. all 13 scenarios before, and the two
seasonal ones rerun after a change that, by construction, leaves the one-day scenarios alone).
Precision = true episodes / episodes, recall@L weighted by breaches, Brier by scored windows
(the reliability table's counts): what the backtest's own pooled row computes."""

import json
import sys

scen: dict[str, dict] = {}
for path in sys.argv[1:]:
    for name, v in json.load(open(path))["scenarios"].items():
        if name != "all":
            scen[name] = v
n = {k: sum(r["count"] for r in v["reliability"]) for k, v in scen.items()}
br = sum(v["breaches"] for v in scen.values())
ep = sum(v["episodes"] for v in scen.values())
true = sum(v["true_episodes"] for v in scen.values())
rec = {lead: sum(v["recall"][lead] * v["breaches"] for v in scen.values()) / br
       for lead in ("60", "300")}
brier = sum(v["brier"] * n[k] for k, v in scen.items()) / sum(n.values())
fa = sum(v["false_alarms_per_component_day"] * v["component_days"] for v in scen.values())
days = sum(v["component_days"] for v in scen.values())
leads = sorted(x for v in scen.values() for x in v.get("lead_times_s", []))
p50 = (leads[(len(leads) - 1) // 2] + leads[len(leads) // 2]) / 2 if leads else float("nan")
print(f"{len(scen)} scenarios: breaches {br} episodes {ep} precision {true / ep:.3f} "
      f"recall@1m {rec['60']:.3f} recall@5m {rec['300']:.3f} Brier {brier:.4f} "
      f"false alarms/comp-day {fa / days:.2f} lead p50 {p50 / 60:.1f} min")
