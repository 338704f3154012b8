"""Every breach missed 5 minutes ahead, by cause (s29, issue #15, recall):
``python causes.py DIR [--list]`` (DIR: ``diag13.py``'s pickles; with ``capture.py``'s
``<scenario>.x.pkl`` beside them, the evidence stages too).

A breach at ``b`` is missed@5m when no window of its component in ``[b - h, b - 5 min]`` has
risk >= 1/3 (the scorer's recall@5m). Per missed breach, over those windows (``W``):
``late`` the first alarm in ``(b - 5 min, b)``, if any; ``other`` how many minutes before
``b`` another component of the scenario first breached (within the horizon: a cascade's root);
``onset`` how the breaching metric came to FAIL: ``step`` (below WARN in the window before
``b``), ``warn<=5`` / ``warn>5`` (minutes at or past WARN before ``b``); ``inFAIL`` the
component already in a rule FAIL (another metric) at
``b - 5 min``; the largest over ``W`` of the metric's forecast band (network outlook, 0: p < 0.05,
1: < 0.5, 2: >= 0.5) and, from ``capture.py``, of ``raw`` (``p_new`` before the records weighed
it), ``cap`` (``season_alarm``'s), ``p_new`` (the alarm's, after both), ``judged`` (the alarm's
risk), ``held`` (after ``risk_hold``) and ``gated`` (after ``alarm_cascade``: the emitted risk).
The cause is the first stage where the largest fell under what would have alarmed:
``start`` (fewer than 5 windows in ``W``), ``gate`` (held >= 1/3, gated not), ``risk`` (the alarm's
``p_new`` >= 1/3 but judged < 1/3; ``:ceiling`` where the alarm's calibrator cannot give 1/3 to
any score, at the window of the largest ``p_new``, else ``:score``), ``cap`` (raw >= 1/3, the cap
< 1/3), ``records`` (raw >= 1/3, weighed < 1/3, the cap not), ``refractory`` (the metric's own
forecast, p >= 0.05, left out of ``p_new`` because a rule of it was in FAIL within the horizon
before the window: "the same breach", while the scorer counts a new one once the truth's FAIL
ended a horizon before), ``weak`` (forecast, raw < 1/3),
``none`` (no forecast: raw < 0.05; ``:context`` where the parents' standing, ``context``, reached
0.3 in ``W`` (a cascade's child), ``:cold`` in the component's first 3 hours, ``:inFAIL`` with
the component in a rule FAIL at ``b - 5 min``, else ``:out``)."""
import collections
import glob
import os
import pickle
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, L  # noqa: E402

STEP = 60_000


def metric_breaches(d: dict) -> dict:
    out = collections.defaultdict(list)
    for b in d["breaches"]:
        out[b.component].append((b.breach_ms, b.metric))
    return out


def onset(rows: list, ts: np.ndarray, b: int, metric: str) -> tuple[str, int]:
    """``step`` / ``warn<=5`` / ``warn>5`` and the minutes the metric stood at or past WARN."""
    i = int(np.searchsorted(ts, b, "right")) - 1  # the last window ending at or before b
    n = 0
    while i - n >= 0 and rows[i - n][5].get(metric, 0) // 3 >= 2:
        n += 1
    return ("step" if n == 0 else "warn<=5" if n <= 5 else "warn>5"), n


def cause(m: dict) -> str:
    if m["n"] < 5:
        return "start"
    if "gated" not in m:
        return "?"
    if m["held"] >= THR:
        return "gate"
    if m["p_new"] >= THR:
        if "ceiling" not in m:
            return "risk"
        return "risk:ceiling" if m["ceiling"] < THR else "risk:score"
    if m["raw"] >= THR:
        return "cap" if m["cap"] < THR else "records"
    if m.get("refractory"):
        return "refractory"
    if m["raw"] >= 0.05:
        return "weak"
    if m["context"] >= 0.3:
        return "none:context"
    if m["min"] < 180:
        return "none:cold"
    return "none:inFAIL" if m["inFAIL"] else "none:out"


def missed(path: str) -> list[dict]:
    d = pickle.load(open(path, "rb"))
    xp = path[:-4] + ".x.pkl"
    x = pickle.load(open(xp, "rb")) if os.path.exists(xp) else None
    if x is not None:
        assert len(x) == len(d["rows"]) and all(
            e["gated"] == r[2] for e, r in zip(x, d["rows"], strict=True))
    idx = collections.defaultdict(list)
    for i, r in enumerate(d["rows"]):
        idx[r[0]].append(i)
    out = []
    every = sorted((b.breach_ms, b.component) for b in d["breaches"])
    for comp, bs in metric_breaches(d).items():
        rows = [d["rows"][i] for i in idx[comp]]
        ts = np.array([r[1] for r in rows], dtype=np.int64)
        risk = np.array([r[2] for r in rows])
        start = d["spans"][comp][0]
        for b, metric in sorted(bs):
            w = np.flatnonzero((ts >= b - H) & (ts <= b - L))
            if (risk[w] >= THR).any():
                continue
            late = np.flatnonzero((ts > b - L) & (ts < b) & (risk >= THR))
            kind, warn_min = onset(rows, ts, b, metric)
            m = {"scenario": os.path.basename(path)[:-4], "comp": comp, "metric": metric,
                 "b": b, "min": (b - start) / 6e4, "day": int((b - start) // 86_400_000),
                 "n": int(w.size), "late": (b - ts[late[0]]) / 6e4 if late.size else None,
                 "onset": kind, "warn_min": warn_min,
                 "inFAIL": bool(w.size) and rows[w[-1]][4].get("fail", 0.0) > 0.0,
                 "band": max((rows[i][5].get(metric, 0) % 3 for i in w), default=0),
                 "risk": float(risk[w].max()) if w.size else 0.0,
                 "context": max((rows[i][4].get("context", 0.0) for i in w), default=0.0),
                 "first": max(((b - t) / 6e4 for t, c in every if c != comp and b - H <= t <= b),
                              default=None)}
            if x is not None and w.size:
                xs = [x[idx[comp][i]] for i in w]
                for k in ("raw", "cap", "p_new", "judged", "held", "gated"):
                    m[k] = max(e[k] for e in xs)
                if "ceiling" in xs[0]:  # at the window where the alarm's p_new was largest
                    top = max(xs, key=lambda e: e["p_new"])
                    m.update(ceiling=top["ceiling"], score=top["score"], labels=top["labels"])
                m["metric_failed"] = any(metric in e["failed"] for e in xs)
                m["refractory"] = any(metric in x[idx[comp][i]]["failed"]
                                      and rows[i][5].get(metric, 0) % 3 >= 1 for i in w)
            m["cause"] = cause(m)
            out.append(m)
    return out


def main(d: str, listing: bool) -> None:
    ms = [m for p in sorted(glob.glob(os.path.join(d, "*.pkl"))) if not p.endswith(".x.pkl")
          for m in missed(p)]
    if listing:
        for m in ms:
            ev = " ".join(f"{k} {m[k]:.2f}" for k in ("raw", "cap", "p_new", "judged", "held",
                                                       "score", "ceiling") if k in m)
            first = None if m["first"] is None else round(m["first"], 1)
            print(f"{m['scenario']:18} {m['comp']:10} {m['metric']:15} day {m['day']} "
                  f"min {m['min']:7.0f} late {m['late'] if m['late'] is None else round(m['late'])}"
                  f" {m['onset']:7} warn {m['warn_min']:3} inFAIL {int(m['inFAIL'])} band "
                  f"{m['band']} ctx {m['context']:.2f} other {first} risk {m['risk']:.2f} {ev} "
                  f"failed {int(m.get('metric_failed', 0))}"
                  f" -> {m['cause']}")
    events = sum(1 for i, m in enumerate(ms) if i == 0 or (m["scenario"], m["comp"]) != (
        ms[i - 1]["scenario"], ms[i - 1]["comp"]) or m["b"] - ms[i - 1]["b"] > 120_000)
    print(f"missed@5m {len(ms)} (onsets: {events}, a component's breaches within 2 min one)")
    for key in ("cause", "onset", "scenario", "metric", "inFAIL", "day"):
        c = collections.Counter(m[key] if key != "day" else min(m["day"], 1) for m in ms)
        print(f"  by {key}:", dict(c.most_common()))
    late = sum(m["late"] is not None for m in ms)
    print(f"  caught late (alarm in the last 5 min): {late}")
    print("  cause x onset:", dict(collections.Counter(
        (m["cause"], m["onset"]) for m in ms).most_common()))
    print("  cause x scenario:", dict(collections.Counter(
        (m["cause"], m["scenario"]) for m in ms).most_common()))


if __name__ == "__main__":
    main(sys.argv[1], "--list" in sys.argv)
