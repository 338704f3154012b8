"""The two forewarn lambda values that bracket reactive's slack on each fold (the cache: CPU the
build's forewarn, memory trial 'ceil' = the default): python brk.py, from the repository root."""
import sys

sys.path.insert(0, "docs/analysis/s18-trace")
from read import FOLDS, by_policy  # noqa: E402

for fold in ("A", "B"):
    for res, trial in (("cpu", "base"), ("mem", "ceil")):
        by = by_policy(trial, res, list(FOLDS[fold]))
        r = by["reactive"][res]
        s = r["slack"]
        pts = [(p["knob"], p[res]["violation_minutes"], p[res]["slack"])
               for p in by["forewarn"]["curve"]]
        near = sorted(pts, key=lambda p: abs(p[2] - s))[:3]
        print(fold, res, "reactive", round(r["violation_minutes"]), round(s, 4), "fw near:",
              [(k, round(v), round(sl, 4)) for k, v, sl in near])
