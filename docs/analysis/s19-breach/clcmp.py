"""Per-scenario closed-loop figures of the forewarn policy, two `forewarn backtest fleet
--policy ... --json` outputs side by side: ``python clcmp.py BASE.json NEW.json``
(violation minutes, resource-hours, commands; the totals)."""
import json
import sys


def scen(path: str) -> dict:
    d = json.load(open(path))
    pol = d["policies"]["forewarn"] if "policies" in d else d
    return pol["scenarios"]


a, b = scen(sys.argv[1]), scen(sys.argv[2])
tot = [0.0, 0.0, 0.0, 0.0, 0, 0]
print(f"{'scenario':28} {'viol min':>17} {'resource-h':>21} {'commands':>13}")
for s in sorted(set(a) | set(b)):
    x, y = a.get(s, {}), b.get(s, {})
    vx, vy = x.get("violation_minutes", float("nan")), y.get("violation_minutes", float("nan"))
    rx, ry = x.get("resource_hours", float("nan")), y.get("resource_hours", float("nan"))
    cx, cy = x.get("commands", 0), y.get("commands", 0)
    mark = "  UP" if vy > vx + 1e-9 else ""
    print(f"{s:28} {vx:8.1f} -> {vy:6.1f} {rx:10.1f} -> {ry:8.1f} {cx:6} -> {cy:5}{mark}")
    for i, v in enumerate((vx, vy, rx, ry, cx, cy)):
        tot[i] += v
print(f"{'total':28} {tot[0]:8.1f} -> {tot[1]:6.1f} {tot[2]:10.1f} -> {tot[3]:8.1f} "
      f"{tot[4]:6} -> {tot[5]:5}")
