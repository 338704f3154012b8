"""Every false page, by cause (s30, issue #15): ``python falsepages.py DIR [--list]``
(DIR: a ``docs/analysis/s13-breach/diag13.py`` run at the default, whose pickles keep the alarm
state, RiskScore's ``alarm``).

A page is a run of windows with ``alarm`` set (the scorer's count since s29): true when one of
its windows with risk >= 1/3 is followed by a breach within the horizon, false otherwise
(censored when it starts less than a horizon before the end). Per false page:

* ``opener``: the largest positive term of the combiner's log-odds at its first window (always
  a crossing): ``breach`` (a forecast), ``warn`` (a rule WARN), ``fail``, ``anomaly``,
  ``context`` (a parent), ``growth``; ``metric``: the metric at WARN or over at that window,
  else the one with the highest forecast band (``-`` if none);
* ``hot``: its windows with risk >= 1/3, ``held``: its length in minutes (the hold included);
* ``near`` (the first that applies): ``after`` (a counted breach of the component in the
  horizon before its start: a late page of an incident under way), ``inFAIL`` (the component
  in a truth FAIL at its start, its breach longer ago), ``uncounted``
  (a truth FAIL starts within a horizon of a hot window but is no counted breach: merged into
  the one before), ``early`` (the next counted breach 15-30 min after its last hot window: just
  out of the horizon), ``nearmiss`` (a metric reaches WARN within a horizon of a hot window,
  no FAIL), ``clean``;
* ``day0``: it starts on the component's first day (``first3h``: in its first 3 hours);
* ``kind``, the first that applies: ``late`` (near ``after``), ``season:day0`` /
  ``season:later`` (a component of two days or more: weekly, daily_peaks; its first day or
  later), ``context`` (opened by a parent), ``first3h``, else ``other:<near>``.
"""
import collections
import glob
import os
import pickle
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402

DAY = 86_400_000


def opener(terms: dict) -> str:
    pos = {k: v for k, v in terms.items() if v > 0.0}
    return max(pos, key=lambda k: pos[k]) if pos else "-"


def metric_of(codes: dict) -> str:
    warn = [m for m, v in codes.items() if m != "context" and v // 3 >= 2]
    if warn:
        return max(warn, key=lambda m: codes[m])
    band = {m: v % 3 for m, v in codes.items() if m != "context" and v % 3 >= 1}
    return max(band, key=lambda m: band[m]) if band else "-"


def near(d: dict, comp: str, ts: np.ndarray, rows: list, a: int, z: int, hot: np.ndarray,
         b: np.ndarray) -> str:
    t0, tl = ts[a], ts[a:z + 1][hot[a:z + 1]].max()
    fails = d["failing"].get(comp, [])
    if ((b >= t0 - H) & (b <= t0)).any():
        return "after"
    if any(lo <= t0 < hi for lo, hi in fails):
        return "inFAIL"
    if any(t0 < lo <= tl + H for lo, _ in fails):
        return "uncounted"
    if ((b > tl + H) & (b <= tl + 2 * H)).any():
        return "early"
    j = np.flatnonzero((ts >= t0) & (ts <= tl + H))
    if any(v // 3 >= 2 for i in j for m, v in rows[i][5].items() if m != "context"):
        return "nearmiss"
    return "clean"


def pages(path: str) -> list[dict]:
    d = pickle.load(open(path, "rb"))
    assert d.get("alarm") and d["alarm"][0] is not None, "a run without the alarm state"
    idx = collections.defaultdict(list)
    for i, r in enumerate(d["rows"]):
        idx[r[0]].append(i)
    br = collections.defaultdict(list)
    for x in d["breaches"]:
        br[x.component].append(x.breach_ms)
    out = []
    for comp, ii in idx.items():
        rows = [d["rows"][i] for i in ii]
        ts = np.array([r[1] for r in rows], dtype=np.int64)
        risk = np.array([r[2] for r in rows])
        al = np.array([bool(d["alarm"][i]) for i in ii])
        hot = risk >= THR
        b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
        fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
        start, end = d["spans"][comp]
        for a, z in _episodes(al):
            true = bool((fol[a:z + 1] & hot[a:z + 1]).any())
            p = {"scenario": os.path.basename(path)[:-4], "comp": comp, "t0": int(ts[a]),
                 "true": true, "censored": not true and ts[a] + H > end,
                 "opener": opener(rows[a][6]), "metric": metric_of(rows[a][5]),
                 "hot": int(hot[a:z + 1].sum()), "held": (ts[z] - ts[a]) / 6e4 + 1,
                 "risk": float(risk[a:z + 1].max()),
                 "day0": (ts[a] - start) < DAY, "first3h": (ts[a] - start) < 3 * 3_600_000,
                 "hour": int((ts[a] % DAY) // 3_600_000)}
            if true:  # lead: first hot window to the first breach it predicts
                k = int(np.flatnonzero(fol[a:z + 1] & hot[a:z + 1])[0]) + a
                nb = b[np.searchsorted(b, ts[k], "right")]
                p["lead_min"] = (nb - ts[a]) / 6e4
            else:
                p["near"] = near(d, comp, ts, rows, a, z, hot, b)
            p["kind"] = kind(p, end - start)
            out.append(p)
    return out


def kind(p: dict, span: int) -> str:
    """One class per page, the first that applies (an order fixed before the counts)."""
    if p.get("near") == "after":
        return "late"
    if span >= 2 * DAY:
        return "season:day0" if p["day0"] else "season:later"
    if p["opener"] == "context":
        return "context"
    if p["first3h"]:
        return "first3h"
    return "other" if p["true"] else "other:" + p["near"]


def main(d: str, listing: bool) -> None:
    ps = [p for f in sorted(glob.glob(os.path.join(d, "*.pkl"))) if not f.endswith(".x.pkl")
          for p in pages(f)]
    f = [p for p in ps if not p["true"] and not p["censored"]]
    t = sum(p["true"] for p in ps)
    print(f"pages {t + len(f)} true {t} false {len(f)} censored "
          f"{sum(p['censored'] for p in ps)} precision {t / (t + len(f)):.4f}")
    if listing:
        for p in sorted(f, key=lambda p: (p["scenario"], p["comp"], p["t0"])):
            print(f"  {p['scenario']:24} {p['comp']:16} hour {p['hour']:2} day0 {int(p['day0'])} "
                  f"{p['opener']:8} {p['metric']:15} hot {p['hot']:3} held {p['held']:5.0f} "
                  f"max {p['risk']:.2f} {p['near']}")
    for key in ("scenario", "opener", "metric", "near", "day0", "first3h"):
        c = collections.Counter(p[key] for p in f)
        print(f"  by {key}:", dict(c.most_common()))
    print("  by kind (false):", dict(collections.Counter(p["kind"] for p in f).most_common()))
    print("  by kind (true):", dict(collections.Counter(
        p["kind"] for p in ps if p["true"]).most_common()))
    for lab, lo, hi in (("hot 1", 1, 1), ("hot 2-4", 2, 4), ("hot 5+", 5, 10**9)):
        print(f"  {lab}: false {sum(lo <= p['hot'] <= hi for p in f)}"
              f" true {sum(lo <= p['hot'] <= hi for p in ps if p['true'])}")
    print("  opener x near:", dict(collections.Counter(
        (p["opener"], p["near"]) for p in f).most_common()))
    print("  kind x near:", dict(collections.Counter(
        (p["kind"], p["near"]) for p in f).most_common()))
    print("  kind x opener:", dict(collections.Counter(
        (p["kind"], p["opener"]) for p in f).most_common()))
    print("  scenario x opener:", dict(collections.Counter(
        (p["scenario"], p["opener"]) for p in f).most_common()))


if __name__ == "__main__":
    main(sys.argv[1], "--list" in sys.argv)
