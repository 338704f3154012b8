"""The alarm while the component is at FAIL by its own rules (s23, issue #15): ``python
infail.py DIR [DIR ...]`` (dirs of ``docs/analysis/s13-breach/diag13.py``).

Prints, per dir: (1) the alarm windows (risk >= 1/3, label known) in and out of a rule FAIL
(the window's ``fail`` evidence) and the share of each followed by a new breach within the
horizon; (2) episodes by true / false, whether their first window is in a rule FAIL, and its
leading term; (3) what-ifs on the emitted risk (the learning unchanged): the alarm dropped in
every rule-FAIL window (``drop``), or decaying there from the last window out of FAIL by the
hold's ``(h - w) / h`` a window (``hold``): episodes, false, precision, recall@5m."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, L, load  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402


def comps(d: str):  # type: ignore[no-untyped-def]
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        dd, by, br = load(p)
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            yield (rs, ts, np.array([r[2] for r in rs]),
                   np.array([r[4].get("fail", 0.0) > 0 for r in rs]), b, fol,
                   dd["spans"][comp][1])


def windows(d: str) -> None:
    c: collections.Counter = collections.Counter()
    for _, ts, risk, f, _, fol, end in comps(d):
        a = (risk >= THR) & (fol | (ts + H <= end))
        for k, m in (("in FAIL", a & f), ("out", a & ~f)):
            c[k] += int(m.sum())
            c[k + " followed"] += int((m & fol).sum())
    print("alarm windows: " + ", ".join(
        f"{k} {c[k]} followed {c[k + ' followed'] / max(1, c[k]):.3f}" for k in ("in FAIL", "out")))


def episodes(d: str) -> None:
    c: collections.Counter = collections.Counter()
    for rs, ts, risk, f, _, fol, end in comps(d):
        for a, z in _episodes(risk >= THR):
            t = "T" if fol[a:z + 1].any() else ("C" if ts[a] + H > end else "F")
            if t != "C":
                terms = rs[a][6]
                c[(t, "in FAIL" if f[a] else "out", max(terms, key=lambda k: terms[k]))] += 1
    print("episodes (true/false, first window, lead): "
          + ", ".join(f"{'/'.join(k)} {v}" for k, v in sorted(c.items())))


def whatif(d: str, mode: str) -> None:
    c: collections.Counter = collections.Counter()
    for _, ts, risk, f, b, fol, end in comps(d):
        risk = risk.copy()
        if mode == "drop":
            risk[f] = 0.0
        elif mode == "hold":
            for i in range(1, risk.size):
                if f[i]:
                    risk[i] = risk[i - 1] * (1 - 60 / 900)
        alarm = risk >= THR
        for a, z in _episodes(alarm):
            if fol[a:z + 1].any():
                c["T"] += 1
            elif ts[a] + H <= end:
                c["F"] += 1
        ats = ts[alarm]
        for x in b.tolist():
            c["hit"] += np.searchsorted(ats, x - L, "right") > np.searchsorted(ats, x - H, "left")
        c["breaches"] += b.size
    ep = c["T"] + c["F"]
    print(f"{mode:5} episodes {ep} false {c['F']} precision {c['T'] / ep:.3f} "
          f"recall@5m {c['hit'] / c['breaches']:.3f}")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(arg)
        windows(arg)
        episodes(arg)
        for m in ("none", "drop", "hold"):
            whatif(arg, m)
