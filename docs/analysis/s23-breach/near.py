"""How near the metrics came to FAIL around each alarm episode (s23, issue #15):
``python near.py SEED DIR [DIR ...]`` (dirs of ``docs/analysis/s13-breach/diag13.py`` run at
SEED; the simulator is re-run, open loop, so its samples are the ones the run scored).

Per episode (threshold 1/3; the scorer's episodes: a false one has no breach of its
component in ``(ts, ts + h]`` of any of its alarms; censored ones are left out), the peak over
the episode's windows and the horizon after its last alarm (``[first - w, last + h]``) of
``value / FAIL threshold``, the largest over the component's simulated metrics, in bands:
``over`` (>= 1: a FAIL, but no *new* breach: a FAIL under way or within a horizon of the
last one, which the scorer merges), ``0.95+``, ``0.9+``, ``warn+`` (at or over the metric's
WARN threshold), ``below`` (never reached WARN). Also per false episode: the day (0: the
scenario's first calendar day, UTC), the leading term of the first window (the largest
term of the combiner's log-odds), whether the component was in FAIL (the truth's) at its
start, whether it starts within a horizon of the end of the component's previous episode (a
flicker of the same trouble), and whether a breach of the component follows within an hour of
its last alarm (too early rather than groundless)."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, load  # noqa: E402

from processors.health import default_rules  # noqa: E402
from streams.lab.scoring.breach import _episodes  # noqa: E402
from streams.sim.incidents import FAIL_THRESHOLDS  # noqa: E402
from streams.sim.scenarios import scenario  # noqa: E402
from streams.sim.simulator import Fleet  # noqa: E402

W = 60_000
METRICS = tuple(FAIL_THRESHOLDS)
WARN = {r.metric: r.warn for r in default_rules() if r.metric in FAIL_THRESHOLDS
        and r.direction == "above"}
BANDS = ("over", "0.95+", "0.9+", "warn+", "below")
LEADS = ("breach", "context", "warn", "anomaly")


def simulate(name: str, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per component: sample times, the largest value / FAIL over its metrics, and whether
    any metric was at or over its WARN threshold."""
    ts: dict[str, list[int]] = collections.defaultdict(list)
    ratio: dict[str, list[float]] = collections.defaultdict(list)
    warn: dict[str, list[bool]] = collections.defaultdict(list)
    for step in Fleet(scenario(name, seed=seed)).run():
        for s in step:
            m = s["metrics"]
            ts[s["component"]].append(s["ts"])
            ratio[s["component"]].append(max(m[k] / FAIL_THRESHOLDS[k] for k in METRICS if k in m))
            warn[s["component"]].append(any(m[k] >= WARN[k] for k in METRICS
                                            if k in m and WARN.get(k) is not None))
    return {c: (np.array(ts[c], np.int64), np.array(ratio[c]), np.array(warn[c])) for c in ts}


def band(r: float, w: bool) -> str:
    return ("over" if r >= 1.0 else "0.95+" if r >= 0.95 else "0.9+" if r >= 0.9
            else "warn+" if w else "below")


def scen(path: str, seed: int) -> collections.Counter:
    name = os.path.basename(path)[:-4]
    d, by, br = load(path)
    sim = simulate(name, seed)
    c: collections.Counter = collections.Counter()
    for comp, rs in by.items():
        ts = np.array([r[1] for r in rs])
        alarm = np.array([r[2] for r in rs]) >= THR
        b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
        end, d0 = d["spans"][comp][1], d["spans"][comp][0] // 86_400_000
        fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
        st, sr, sw = sim[comp]
        prev_end = None  # the last alarm of the component's previous episode
        for a, z in _episodes(alarm):
            gap = None if prev_end is None else ts[a] - prev_end
            prev_end = ts[z]
            lo, hi = np.searchsorted(st, ts[a] - W, "left"), np.searchsorted(st, ts[z] + H, "right")
            k = band(float(sr[lo:hi].max()) if hi > lo else 0.0, bool(sw[lo:hi].any()))
            if fol[a:z + 1].any():
                c["true"] += 1
                c[f"T {k}"] += 1
                continue
            if ts[a] + H > end:
                continue
            terms = rs[a][6]
            top = max(terms, key=lambda t: terms[t]) if terms else "-"
            day = "0" if ts[a] // 86_400_000 == d0 else "1+"
            inf = any(x <= ts[a] < y for x, y in d["failing"].get(comp, []))
            c["false"] += 1
            c[f"F {k}"] += 1
            c[f"F day{day} {k}"] += 1
            c[f"F lead {top if top in LEADS else 'other'} {k}"] += 1
            c["F inFAIL"] += inf
            c["F after<h"] += gap is not None and gap <= H  # a flicker: within h of the last
            nxt = b[np.searchsorted(b, ts[z], "right"):]  # too early: a breach in 1 h after
            c["F early"] += bool(nxt.size and nxt[0] <= ts[z] + 4 * H)
    return c


def table(seed: int, d: str) -> None:
    names = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(d, "*.pkl")))
    print(f"{d} (seed {seed})\n| scenario | true | false | false: " + " / ".join(BANDS)
          + " | true: " + " / ".join(BANDS) + " | false in FAIL at start | false within h of an"
          " episode's end | false with a breach within 1 h after its end |")
    print("| --- | ---: | ---: | --- | --- | ---: | ---: | ---: |")
    tot: collections.Counter = collections.Counter()
    for n in names + ["all"]:
        c = tot if n == "all" else scen(os.path.join(d, n + ".pkl"), seed)
        if n != "all":
            tot.update(c)
        if n != "all" and not c["false"]:
            continue
        print(f"| {n} | {c['true']} | {c['false']} | "
              + " / ".join(str(c[f'F {k}']) for k in BANDS) + " | "
              + " / ".join(str(c[f'T {k}']) for k in BANDS)
              + f" | {c['F inFAIL']} | {c['F after<h']} | {c['F early']} |")
    print("\nfalse episodes, band by day and by lead:")
    for row in ("day0", "day1+", *(f"lead {x}" for x in (*LEADS, "other"))):
        print(f"| {row} | " + " / ".join(str(tot[f'F {row} {k}']) for k in BANDS) + " |")
    print()


if __name__ == "__main__":
    for arg in sys.argv[2:]:
        table(int(sys.argv[1]), arg)
