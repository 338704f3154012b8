"""What-if, scoring only (s23, issue #15): the pooled figures of ``diag13.py`` pickles when an
alarm episode ends only once the risk falls below the engine's release point (half the alarm
point: ``calibration.RELEASE_FRACTION``), not below the alarm point itself:
``python release.py DIR [DIR ...]``. The risk events are the run's; only the episode
definition changes (raise at >= 1/3, clear below 1/6, as the allocation engine holds a grant).
Recall is counted both ways: alarms at >= 1/3 (the scorer's) and the alarm state on."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, L, load  # noqa: E402

from processors.calibration import RELEASE_FRACTION  # noqa: E402
from streams.lab.scoring.breach import _episodes  # noqa: E402


def state(risk: np.ndarray, on: float, off: float) -> np.ndarray:
    out, alarm = np.zeros(risk.size, bool), False
    for i, r in enumerate(risk.tolist()):
        alarm = r >= on or (alarm and r >= off)
        out[i] = alarm
    return out


def scen(path: str) -> collections.Counter:
    d, by, br = load(path)
    c: collections.Counter = collections.Counter()
    for comp, rs in by.items():
        ts = np.array([r[1] for r in rs])
        risk = np.array([r[2] for r in rs])
        b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
        end = d["spans"][comp][1]
        fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
        for key, alarm in (("plain", risk >= THR), ("release", state(risk, THR,
                                                                     RELEASE_FRACTION * THR))):
            for a, z in _episodes(alarm):
                if fol[a:z + 1].any():
                    c[f"{key} true"] += 1
                elif ts[a] + H <= end:
                    c[f"{key} false"] += 1
            c[f"{key} windows"] += int(alarm.sum())
            c["windows"] += alarm.size if key == "plain" else 0
            ats = ts[alarm]
            for x in b.tolist():
                c[f"{key} hit"] += np.searchsorted(ats, x - L, "right") > np.searchsorted(
                    ats, x - H, "left")
        c["breaches"] += b.size
    return c


if __name__ == "__main__":
    for d in sys.argv[1:]:
        tot: collections.Counter = collections.Counter()
        for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
            tot.update(scen(p))
        for key in ("plain", "release"):
            ep = tot[f"{key} true"] + tot[f"{key} false"]
            print(f"{d} {key:8} episodes {ep} false {tot[f'{key} false']} precision "
                  f"{tot[f'{key} true'] / ep:.3f} recall@5m "
                  f"{tot[f'{key} hit'] / tot['breaches']:.3f} share of windows in alarm "
                  f"{tot[f'{key} windows'] / tot['windows']:.4f}")
