"""What a record of alarm episodes per evidence class could gain (s26, issue #15), on the
emitted risk, the learning unchanged: ``python record.py DIR [PRIOR]`` (a dir of
``docs/analysis/s13-breach/diag13.py``).

At each window where an alarm would start (risk >= 1/3, the alarm off in the window before),
the start's class is the combiner's largest term there; the start stands only if
``risk * (k + a) / (n + a) >= 1/3``, where ``n`` counts the earlier episodes of that class
whose outcome is known by now (a breach followed one of its windows within the horizon, or a
horizon has passed since its last window) and ``k`` the true ones among them, ``a`` the prior
(``forecast_trust``'s 2). Keys: per component and class, or per class over the scenario's
components. Also the oracle bounds: every false episode of a class dropped (and what dropping
the class costs in true ones)."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s23-breach"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, L  # noqa: E402
import infail  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402


def lead(terms: dict) -> str:
    return max(terms, key=lambda k: terms[k])


def score(alarm, ts, fol, b, end, c):  # type: ignore[no-untyped-def]
    for a, z in _episodes(alarm):
        if fol[a:z + 1].any():
            c["T"] += 1
        elif ts[a] + H <= end:
            c["F"] += 1
    ats = ts[alarm]
    for x in b.tolist():
        c["hit"] += np.searchsorted(ats, x - L, "right") > np.searchsorted(ats, x - H, "left")
    c["breaches"] += b.size


def run(d: str, mode: str, prior: float) -> str:
    c: collections.Counter = collections.Counter()
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        dd, by, br = infail.load(p)
        comps = []
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            comps.append((comp, rs, ts, np.array([r[2] for r in rs]), b, fol,
                          dd["spans"][comp][1]))
        # event time, over the scenario's components (the per-class key pools them)
        order = sorted(((int(x[2][i]), j, i) for j, x in enumerate(comps)
                        for i in range(x[2].size)))
        alarms = [np.zeros(x[2].size, bool) for x in comps]
        record: dict = collections.defaultdict(lambda: [0.0, 0.0])
        open_: dict = {}  # comp index -> (key, start idx, followed, last alarm ts)
        pend: list = []  # (resolve ts, key, true)
        for t, j, i in order:
            comp, rs, ts, risk, b, fol, end = comps[j]
            keep = []
            for rt, key, y in pend:
                if rt <= t:
                    record[key][0] += y
                    record[key][1] += 1
                else:
                    keep.append((rt, key, y))
            pend = keep
            on_before = i > 0 and alarms[j][i - 1]
            r = risk[i]
            if mode == "none" or r < THR:
                on = r >= THR
            elif on_before:
                on = True
            else:
                cls = lead(rs[i][6])
                key = (comp, cls) if mode == "comp" else cls
                k, n = record[key]
                on = r * (k + prior) / (n + prior) >= THR
                if on:
                    open_[j] = [key, fol[i]]
            alarms[j][i] = on
            if on and j in open_:
                open_[j][1] = open_[j][1] or fol[i]
            if on_before and not on and j in open_:
                key, y = open_.pop(j)
                pend.append((int(ts[i - 1]) + H if not y else int(ts[i - 1]), key, float(y)))
        for (comp, rs, ts, risk, b, fol, end), al in zip(comps, alarms):
            score(al, ts, fol, b, end, c)
    ep = c["T"] + c["F"]
    return (f"{mode:6} prior {prior} episodes {ep} true {c['T']} false {c['F']} "
            f"precision {c['T'] / ep:.3f} recall@5m {c['hit'] / c['breaches']:.3f}")


def bounds(d: str) -> None:
    c: collections.Counter = collections.Counter()
    for comp_rows in infail.comps(d):
        rs, ts, risk, f, b, fol, end = comp_rows
        for a, z in _episodes(risk >= THR):
            t = "T" if fol[a:z + 1].any() else ("C" if ts[a] + H > end else "F")
            if t != "C":
                c[(t, "in FAIL" if f[a] else lead(rs[a][6]))] += 1
    T = sum(v for k, v in c.items() if k[0] == "T")
    F = sum(v for k, v in c.items() if k[0] == "F")
    print(f"as is: episodes {T + F} true {T} false {F} precision {T / (T + F):.3f}")
    for cls in sorted({k[1] for k in c}):
        f, t = c[("F", cls)], c[("T", cls)]
        print(f"class {cls:8} false {f:3} true {t:3}: its false dropped {T / (T + F - f):.3f}"
              f" (the class dropped: {(T - t) / max(1, T - t + F - f):.3f}, {t} true lost)")


if __name__ == "__main__":
    bounds(sys.argv[1])
    a = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    for m in ("none", "comp", "fleet"):
        print(run(sys.argv[1], m, a))
