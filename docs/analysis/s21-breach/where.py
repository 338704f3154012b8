"""Where the false alarm episodes are (s21 item 1): ``python where.py DIR [DIR ...]`` (dirs of
``docs/analysis/s13-breach/diag13.py``), a markdown table per dir: per scenario, false episodes
by day (0: the scenario's first day; 1+: later) crossed with what led the episode's first
window (the largest term of the combiner's log-odds: breach / context / warn / anomaly /
other), and the pooled precision / recall@5m as ``episodes.py`` counts them (the backtest's)."""
import collections
import glob
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
import numpy as np  # noqa: E402
from episodes import THR, H, L, load  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402

LEADS = ("breach", "context", "warn", "anomaly")


def scen(path: str) -> collections.Counter:
    d, by, br = load(path)
    c: collections.Counter = collections.Counter()
    for comp, rs in by.items():
        ts = np.array([r[1] for r in rs])
        alarm = np.array([r[2] for r in rs]) >= THR
        b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
        end, d0 = d["spans"][comp][1], d["spans"][comp][0] // 86_400_000
        fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
        for a, z in _episodes(alarm):
            if fol[a:z + 1].any():
                c["true"] += 1
            elif ts[a] + H <= end:
                terms = rs[a][6]
                top = max(terms, key=lambda k: terms[k]) if terms else "-"
                day = "0" if ts[a] // 86_400_000 == d0 else "1+"
                c["false"] += 1
                c[f"day{day}"] += 1
                c[f"day{day} {top if top in LEADS else 'other'}"] += 1
        ats = ts[alarm]
        for x in b.tolist():
            if np.searchsorted(ats, x - L, "right") <= np.searchsorted(ats, x - H, "left"):
                c["missed"] += 1
        c["breaches"] += b.size
    return c


def table(d: str) -> None:
    names = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(d, "*.pkl")))
    cols = [f"day{x} {k}" for x in ("0", "1+") for k in (*LEADS, "other")]
    print(f"{d}\n| scenario | episodes | **false** | day 0 | later | day 0: "
          + " / ".join(LEADS + ("other",)) + " | later: " + " / ".join(LEADS + ("other",))
          + " | missed@5m |")
    print("| --- | ---: | ---: | ---: | ---: | --- | --- | ---: |")
    tot: collections.Counter = collections.Counter()
    for n in names + ["all"]:
        c = tot if n == "all" else scen(os.path.join(d, n + ".pkl"))
        if n != "all":
            tot.update(c)
        if n != "all" and not c["false"] and not c["missed"]:
            continue
        ep = c["true"] + c["false"]
        print(f"| {n} | {ep} | **{c['false']}** | {c['day0']} | {c['day1+']} | "
              + " / ".join(str(c[k]) for k in cols[:5]) + " | "
              + " / ".join(str(c[k]) for k in cols[5:]) + f" | {c['missed']} |")
    ep = tot["true"] + tot["false"]
    print(f"precision {tot['true'] / ep:.3f} recall@5m {1 - tot['missed'] / tot['breaches']:.3f}"
          f" ({ep} episodes, {tot['false']} false, {tot['breaches']} breaches)\n")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        table(arg)
