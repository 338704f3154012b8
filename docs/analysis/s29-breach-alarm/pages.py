"""Side by side, for an ``alarm_hold_s`` run of ``docs/analysis/s13-breach/diag13.py`` and the
default's run on the same seed: ``python pages.py BASE NEW``.

Prints, pooled over the scenarios: the default's figures (risk crossing 1/3), the new run's
risk-crossing count (must equal the default's: the risk is untouched), its pages (the alarm
state, the scorer's count: only windows with risk >= 1/3 make a page true or predict a
breach) and the lenient count (a window held firing counts as an alarm, the scorer's old
definitions applied to the state), each as episodes, false, precision, recall@5m, Brier; the
share of windows firing; and whether every window's risk equals the default's."""
import collections
import glob
import json
import os
import pickle
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import H, L  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402


def lenient(d: str) -> collections.Counter:
    c: collections.Counter = collections.Counter()
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        dd = pickle.load(open(p, "rb"))
        by = collections.defaultdict(list)
        for row, a in zip(dd["rows"], dd["alarm"], strict=True):
            by[row[0]].append((row[1], a))
        br = collections.defaultdict(list)
        for b in dd["breaches"]:
            br[b.component].append(b.breach_ms)
        for comp, xs in by.items():
            ts = np.array([x[0] for x in xs])
            al = np.array([bool(x[1]) for x in xs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            for a, z in _episodes(al):
                if fol[a:z + 1].any():
                    c["T"] += 1
                elif ts[a] + H <= dd["spans"][comp][1]:
                    c["F"] += 1
            ats = ts[al]
            c["hit"] += sum(int(np.searchsorted(ats, x - L, "right")
                                > np.searchsorted(ats, x - H, "left")) for x in b.tolist())
            c["breaches"] += b.size
    return c


def same_risk(base: str, new: str) -> tuple[int, int]:
    n = bad = 0
    for p in sorted(glob.glob(os.path.join(new, "*.pkl"))):
        a = pickle.load(open(p, "rb"))["rows"]
        b = pickle.load(open(os.path.join(base, os.path.basename(p)), "rb"))["rows"]
        n += len(a)
        bad += abs(len(a) - len(b)) + sum(x[:4] != y[:4] for x, y in zip(a, b, strict=False))
    return n, bad


def main(base: str, new: str) -> None:
    b = json.load(open(os.path.join(base, "figures.json")))["scenarios"]["all"]
    a = json.load(open(os.path.join(new, "figures.json")))["scenarios"]["all"]
    o = a["risk_crossing"]
    r5, brier = a["recall"]["300"], a["brier"]

    def row(tag: str, ep: int, t: int, p: float, rec: float, br: float) -> None:
        print(f"{tag:34} ep {ep:4} false {ep - t:4} P {p:.4f} R@5m {rec:.4f} Brier {br:.6f}")
    row("default (risk crossing)", b["episodes"], b["true_episodes"], b["precision"],
        b["recall"]["300"], b["brier"])
    row("new run, risk crossing", o["episodes"], o["true_episodes"], o["precision"], r5, brier)
    row("new run, pages (alarm state)", a["episodes"], a["true_episodes"], a["precision"], r5,
        brier)
    c = lenient(new)
    row("new run, lenient (held = alarm)", c["T"] + c["F"], c["T"], c["T"] / (c["T"] + c["F"]),
        c["hit"] / c["breaches"], brier)
    print(f"windows firing {a['alarm_window_share']:.4f}, crossing {o['window_share']:.4f}; "
          f"false pages / component-day {a['false_alarms_per_component_day']:.3f} "
          f"(crossing {o['false_alarms_per_component_day']:.3f})")
    n, bad = same_risk(base, new)
    print(f"windows {n}, risk differing from the default's: {bad}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
