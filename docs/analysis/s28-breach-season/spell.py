"""What-ifs of a refractory alarm within one rule-FAIL spell (s28, issue #15):
``python spell.py DIR`` (a dir of ``docs/analysis/s13-breach/diag13.py``).

``spell``: while the component stays in a rule FAIL (consecutive windows with ``fail``
evidence) and its alarm has already been on and fallen in this spell, the alarm is at most
the previous window's (it can go on falling, not start again). ``spell+new``: the same, unless
a metric (below its FAIL band, not ``context``) names a cascade (WARN or a breach forecast)
whose evidence began after the fall. ``latch``: once on in the spell the alarm stays at least
at the threshold until the spell ends (for the record: what merging does). On the emitted
risk, the learning and the hold unchanged. Pooled and per scenario: episodes, false,
precision, recall@5m, Brier (windows whose horizon was seen)."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, L, load  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402

FAIL_STATE, WARN_STATE = 9, 6


def evid(s: int) -> bool:
    return s < FAIL_STATE and (s >= WARN_STATE or s % 3 != 0)


def emit(rs: list, ts: np.ndarray, risk: np.ndarray, mode: str) -> np.ndarray:
    new = risk.copy()
    was_on = fell = False
    fell_ms = 0
    runs: dict = {}
    for i in range(risk.size):
        for m, s in rs[i][5].items():
            if m == "context" or not evid(s):
                runs.pop(m, None)
            elif m not in runs:
                runs[m] = ts[i]
        if rs[i][4].get("fail", 0.0) <= 0:
            was_on = fell = False
            continue
        if fell and i:
            news = mode == "spell+new" and any(t0 > fell_ms for t0 in runs.values())
            if mode == "latch":
                new[i] = max(new[i], THR)
            elif not news:
                new[i] = min(risk[i], new[i - 1])
        on = new[i] >= THR
        if mode == "latch":
            fell = fell or on
        elif was_on and not on and not fell:
            fell, fell_ms = True, ts[i]
        was_on = was_on or on
    return new


def run(d: str, mode: str) -> dict:
    out: dict = collections.defaultdict(collections.Counter)
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        dd, by, br = load(p)
        c = out[name]
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs])
            risk = np.array([r[2] for r in rs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            end = dd["spans"][comp][1]
            new = risk if mode == "none" else emit(rs, ts, risk, mode)
            alarm = new >= THR
            for a, z in _episodes(alarm):
                if fol[a:z + 1].any():
                    c["T"] += 1
                elif ts[a] + H <= end:
                    c["F"] += 1
            ats = ts[alarm]
            for x in b.tolist():
                c["hit"] += int(np.searchsorted(ats, x - L, "right")
                                > np.searchsorted(ats, x - H, "left"))
            c["breaches"] += b.size
            seen = ts + H <= end
            c["sq"] += float(((new - fol) ** 2)[seen].sum())
            c["n"] += int(seen.sum())
    return out


def line(tag: str, c: collections.Counter) -> str:
    ep = c["T"] + c["F"]
    return (f"{tag:20} ep {ep:4} false {c['F']:4} P {c['T'] / max(ep, 1):.3f} "
            f"R@5m {c['hit'] / max(c['breaches'], 1):.3f} Brier {c['sq'] / max(c['n'], 1):.4f}")


def main(d: str, modes: list[str]) -> None:
    base = run(d, "none")
    for mode in ["none"] + modes:
        res = base if mode == "none" else run(d, mode)
        tot: collections.Counter = collections.Counter()
        for c in res.values():
            tot.update(c)
        print(line(mode, tot))
        if mode != "none":
            for name, c in sorted(res.items()):
                b = base[name]
                if (c["T"], c["F"], c["hit"]) != (b["T"], b["F"], b["hit"]):
                    print("   ", line(name, b), "->", line("", c)[21:])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["spell", "spell+new", "latch"])
