"""Per scenario, false episodes and missed breaches, by cause, from ``diag13.py``'s pickles:
``python episodes.py DIR [DIR2]`` (DIR2: the same after a change, side by side).

Per false (uncensored) episode: the day it starts (0: the first day of the scenario),
whether the component is in FAIL there (the truth's FAIL intervals), and the largest term
of the combiner's log-odds at its first window (breach, warn, fail, anomaly, bn, growth,
context). A missed breach is one with no alarm in ``[b - h, b - 5 min]`` (recall@5m)."""
import collections
import glob
import os
import pickle
import sys

import numpy as np

from streams.lab.scoring.breach import _episodes

H, L, THR = 900_000, 300_000, 1 / 3


def load(path: str) -> tuple[dict, dict, dict]:
    """A pickle of ``diag13.py``, its rows by component and its breach times by component."""
    d = pickle.load(open(path, "rb"))
    by = collections.defaultdict(list)
    for row in d["rows"]:
        by[row[0]].append(row)
    br = collections.defaultdict(list)
    for b in d["breaches"]:
        br[b.component].append(b.breach_ms)
    return d, by, br


def scen(path: str, thr: float = THR) -> dict:
    d, by, br = load(path)
    c = collections.Counter()
    for comp, rs in by.items():
        ts = np.array([r[1] for r in rs])
        risk = np.array([r[2] for r in rs])
        b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
        end = d["spans"][comp][1]
        d0 = d["spans"][comp][0] // 86_400_000
        alarm = risk >= thr
        fol = (np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right"))
        for a, z in _episodes(alarm):
            if fol[a:z + 1].any():
                c["true"] += 1
                continue
            if ts[a] + H > end:
                c["censored"] += 1
                continue
            c["false"] += 1
            inf = any(lo <= ts[a] < hi for lo, hi in d["failing"].get(comp, []))
            terms = rs[a][6]
            top = max(terms, key=lambda k: terms[k]) if terms else "-"
            day = int(ts[a] // 86_400_000 - d0)
            c[f"F day{'0' if day == 0 else '1+'}"] += 1
            c["F inFAIL" if inf else "F out"] += 1
            c[f"F top={top}"] += 1
            c[f"F {comp.split('-')[0]}"] += 1
        ats = ts[alarm]
        for x in b.tolist():
            lo = np.searchsorted(ats, x - H, "left")
            hi = np.searchsorted(ats, x - L, "right")
            if hi <= lo:
                c["missed@5m"] += 1
                c[f"missed day{'0' if (x // 86_400_000 - d0) == 0 else '1+'}"] += 1
        c["breaches"] += b.size
    return c


def main() -> None:
    dirs = sys.argv[1:]
    names = sorted(set.intersection(*({os.path.basename(p)[:-4] for p in glob.glob(
        os.path.join(d, "*.pkl"))} for d in dirs)))
    tot = [collections.Counter() for _ in dirs]
    for n in names:
        cs = [scen(os.path.join(d, n + ".pkl")) for d in dirs]
        for t, c in zip(tot, cs, strict=True):
            t.update(c)
        print(n, " | ".join(f"br {c['breaches']} ep {c['true'] + c['false']} T {c['true']} "
                            f"F {c['false']} missed@5m {c['missed@5m']}" for c in cs))
    for t in tot:
        ep = t["true"] + t["false"]
        print(f"ALL breaches {t['breaches']} episodes {ep} precision {t['true'] / ep:.3f} "
              f"recall@5m {1 - t['missed@5m'] / t['breaches']:.3f}")
        print("  ", sorted((k, v) for k, v in t.items() if k.startswith(("F ", "missed"))))




def markdown(d: str) -> None:
    """``python episodes.py --md DIR``: the per-scenario table of docs/modelling.md."""
    names = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(d, "*.pkl")))
    print("| scenario | breaches | episodes | true | **false** | first day | start in FAIL "
          "| top term: breach / context / warn / fail / anomaly | missed@5m |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    tot = collections.Counter()
    for n in names + ["all"]:
        c = tot if n == "all" else scen(os.path.join(d, n + ".pkl"))
        if n != "all":
            tot.update(c)
        tops = " / ".join(str(c[f"F top={k}"]) for k in
                          ("breach", "context", "warn", "fail", "anomaly"))
        print(f"| {n} | {c['breaches']} | {c['true'] + c['false']} | {c['true']} | "
              f"**{c['false']}** | {c['F day0']} | {c['F inFAIL']} | {tops} | "
              f"{c['missed@5m']} |")


if __name__ == "__main__":
    markdown(sys.argv[2]) if sys.argv[1] == "--md" else main()
