"""Alarm rules applied after the fact to ``diag13.py``'s risk events (what the pipeline would
emit if it applied the rule to its output
its learning unchanged): pooled figures per rule.
``python rules.py DIR [more|holds|sweep]``: the first rules, more smoothing rules, the hold's
variants, or the events as they are at seven alarm points."""
import collections
import glob
import pickle
import sys

import numpy as np

from streams.lab.backtest import breach_figures
from streams.lab.scoring.breach import Breach, RiskEvent

H = 900_000


def load(d: str) -> list[dict]:
    return [pickle.load(open(p, "rb")) | {"name": p.split("/")[-1][:-4]}
            for p in sorted(glob.glob(f"{d}/*.pkl"))]


def pooled(runs: list[dict], rule, thr: float = 1 / 3) -> dict:
    ev, br, sp, fl = [], [], {}, {}
    for r in runs:
        by = collections.defaultdict(list)
        for row in r["rows"]:
            by[row[0]].append(row)
        for comp, rs in by.items():
            risk = rule(rs)
            ev += [RiskEvent(f"{r['name']}:{comp}", x[1], float(p), x[3])
                   for x, p in zip(rs, risk, strict=True)]
        br += [Breach(f"{r['name']}:{b.component}", b.metric, b.breach_ms) for b in r["breaches"]]
        sp |= {f"{r['name']}:{c}": s for c, s in r["spans"].items()}
        fl |= {f"{r['name']}:{c}": s for c, s in r["failing"].items()}
    return breach_figures(ev, br, sp, thr, H / 1000, fl)


def same(rs):
    return np.array([x[2] for x in rs])


def hold(k):
    def rule(rs):
        r = np.array([x[2] for x in rs])
        out = r.copy()
        for i in range(1, len(r)):
            out[i] = max(r[i], r[max(0, i - k):i].max())
        return out
    return rule


def decay_hold(rs):
    r = np.array([x[2] for x in rs])
    out = r.copy()
    for i in range(1, len(r)):
        out[i] = max(r[i], out[i - 1] * (H - 60_000) / H)
    return out


RULES = {"none": same, "max of last 2": hold(1), "max of last 5": hold(4),
         "decaying hold (h-w)/h": decay_hold}

if __name__ == "__main__":
    runs = load(sys.argv[1])
    for name, rule in RULES.items():
        f = pooled(runs, rule)
        print(f"{name:28s} ep {f['episodes']:4d} P {f['precision']:.3f} "
              f"R@5m {f['recall']['300']:.3f} Brier {f['brier']:.4f}")


def ew(a):
    def rule(rs):
        r = np.array([x[2] for x in rs])
        out = r.copy()
        for i in range(1, len(r)):
            out[i] = out[i - 1] + a * (r[i] - out[i - 1])
        return out
    return rule


def hold_then_min2(rs):
    r = decay_hold(rs)
    out = r.copy()
    out[1:] = np.minimum(r[1:], r[:-1])
    return out


def ew_hold(a):
    def rule(rs):
        r = ew(a)(rs)
        out = r.copy()
        for i in range(1, len(r)):
            out[i] = max(r[i], out[i - 1] * (H - 60_000) / H)
        return out
    return rule


MORE = {"EW mean 0.5": ew(0.5), "EW mean 0.3": ew(0.3), "hold then min of 2": hold_then_min2,
        "EW 0.5 then hold": ew_hold(0.5)}
if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[2] == "more":
    for name, rule in MORE.items():
        f = pooled(runs, rule)
        print(f"{name:28s} ep {f['episodes']:4d} P {f['precision']:.3f} "
              f"R@5m {f['recall']['300']:.3f} Brier {f['brier']:.4f}")


def hold_out_of_fail(rs):
    """The decaying hold, only while the component is not in FAIL (an onset fulfils the
    forecast that was held)."""
    r = np.array([x[2] for x in rs])
    out = r.copy()
    for i in range(1, len(r)):
        if not rs[i][4].get("fail", 0.0):
            out[i] = max(r[i], out[i - 1] * (H - 60_000) / H)
    return out


def hold_reset_onset(rs):
    """The decaying hold, reset when the component enters FAIL."""
    r = np.array([x[2] for x in rs])
    out = r.copy()
    for i in range(1, len(r)):
        entered = rs[i][4].get("fail", 0.0) and not rs[i - 1][4].get("fail", 0.0)
        if not entered:
            out[i] = max(r[i], out[i - 1] * (H - 60_000) / H)
    return out


HOLDS = {"hold out of FAIL": hold_out_of_fail, "hold reset at FAIL entry": hold_reset_onset,
         "decaying hold (h-w)/h": decay_hold}
if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[2] == "holds":
    for name, rule in HOLDS.items():
        f = pooled(runs, rule)
        print(f"{name:28s} ep {f['episodes']:4d} P {f['precision']:.3f} "
              f"R@5m {f['recall']['300']:.3f} Brier {f['brier']:.4f}")

if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[2] == "sweep":
    for thr in (0.2, 0.25, 0.3, 1 / 3, 0.4, 0.5, 0.6):
        f = pooled(runs, same, thr)
        print(f"alarm at {thr:.3f}: ep {f['episodes']:4d} P {f['precision']:.3f} "
              f"R@5m {f['recall']['300']:.3f} F1@5m {f['f1_at_300s']:.3f} "
              f"FA/comp-day {f['false_alarms_per_component_day']:.2f}")
