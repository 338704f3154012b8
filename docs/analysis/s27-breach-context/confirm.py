"""What-if of an onset confirmation on the emitted alarm (s27, issue #15): ``python
confirm.py DIR [all]`` (a dir of ``docs/analysis/s13-breach/diag13.py``).

The hold (s13) carries one window's risk for a third of a horizon, so a one-window blip of
evidence makes a whole alarm episode. Here the alarm may rise only to what two consecutive
windows' evidence both say: ``risk_t = max(held(risk_{t-1}), min(raw_t, raw_{t-1}))``.
``raw`` is not in the pickles: where the emitted risk rose above the previous window's held
value it is the emitted risk; in between it is estimated from the last known one by the change
of the combiner's summed log-odds terms (calibration taken as a shift in logit). The learning
and the children's ``context`` are as in the run. Prints episodes / true / false / precision /
recall@5m, as run and confirmed, per scenario group, and the false / true episodes dropped."""
import collections
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s27-breach-context"))
from episodes import THR, H, L, load  # noqa: E402
from when import SEASONAL  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402

DECAY = 1 - 60 / 900


def logit(p: float) -> float:
    p = min(1 - 1e-9, max(1e-9, p))
    return math.log(p / (1 - p))


def raws(rs: list, risk: np.ndarray) -> np.ndarray:
    out = np.empty_like(risk)
    known, s_known = None, 0.0
    for i, r in enumerate(rs):
        s = sum(r[6].values())
        held = risk[i - 1] * DECAY if i else 0.0
        if risk[i] > held + 1e-12 or known is None:
            out[i], known, s_known = risk[i], risk[i], s
        else:
            out[i] = 1 / (1 + math.exp(-(logit(known) + s - s_known)))
            out[i] = min(out[i], risk[i])
    return out


def confirmed(raw: np.ndarray, ts: np.ndarray) -> np.ndarray:
    out = np.empty_like(raw)
    for i in range(raw.size):
        gap = i and ts[i] - ts[i - 1] <= 60_000
        held = out[i - 1] * DECAY if gap else 0.0
        out[i] = max(held, min(raw[i], raw[i - 1]) if gap else 0.0)
    return out


def score(alarm, ts, fol, b, end, c, tag):  # type: ignore[no-untyped-def]
    for a, z in _episodes(alarm):
        if fol[a:z + 1].any():
            c[tag + "T"] += 1
        elif ts[a] + H <= end:
            c[tag + "F"] += 1
    ats = ts[alarm]
    for x in b.tolist():
        c[tag + "hit"] += int(np.searchsorted(ats, x - L, "right") > np.searchsorted(ats, x - H, "left"))
    c[tag + "br"] += b.size


def main(d: str) -> None:
    import glob
    tot: dict = collections.defaultdict(collections.Counter)
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        dd, by, br = load(p)
        c = tot["seasonal" if name in SEASONAL else "other"]
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs])
            risk = np.array([r[2] for r in rs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            end = dd["spans"][comp][1]
            score(risk >= THR, ts, fol, b, end, c, "run ")
            score(confirmed(raws(rs, risk), ts) >= THR, ts, fol, b, end, c, "conf ")
    allc: collections.Counter = sum(tot.values(), collections.Counter())
    for g, c in list(tot.items()) + [("all", allc)]:
        for tag in ("run ", "conf "):
            ep = c[tag + "T"] + c[tag + "F"]
            print(f"{g:8} {tag:5} episodes {ep} true {c[tag + 'T']} false {c[tag + 'F']} "
                  f"precision {c[tag + 'T'] / max(1, ep):.3f} recall@5m {c[tag + 'hit'] / max(1, c[tag + 'br']):.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
