"""Why the fleet's breach precision falls with ``anomaly_coarse`` 4 (issue #15, s18):
``python why.py BASE_DIR COARSE_DIR`` (two ``docs/analysis/s13-breach/diag13.py`` outputs of
one seed, the default and ``anomaly_coarse=4``).

Per scenario: the anomaly evidence's distribution (share of windows at 0, in (0, 0.5], above
0.5; the default's then the option's), and the combiner's effective anomaly weight (term /
evidence, median over windows with evidence > 0) at the end of the run. Then each false
episode of the option that no episode of the default overlaps (a *new* false episode): its
first window's risk in both runs and, per combiner term, how much it moved (option - default,
in log-odds), summed over those episodes, with the count of episodes whose largest upward
move is that term."""
import collections
import os
import pickle
import sys

import numpy as np

from streams.lab.scoring.breach import _episodes

H, THR = 900_000, 1 / 3


def rows(path: str) -> tuple[dict, dict]:
    d = pickle.load(open(path, "rb"))
    by: dict = collections.defaultdict(list)
    for r in d["rows"]:
        by[r[0]].append(r)
    return d, by


def falses(d: dict, by: dict) -> dict:
    """Per component, the (first, last) window index of each uncensored false episode."""
    br = collections.defaultdict(list)
    for b in d["breaches"]:
        br[b.component].append(b.breach_ms)
    out: dict = {}
    for comp, rs in by.items():
        ts = np.array([r[1] for r in rs])
        risk = np.array([r[2] for r in rs])
        b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
        end = d["spans"][comp][1]
        fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
        out[comp] = [(a, z) for a, z in _episodes(risk >= THR)
                     if not fol[a:z + 1].any() and ts[a] + H <= end]
    return out


def dist(by: dict) -> tuple[float, float, float, float]:
    a = np.array([r[4].get("anomaly", 0.0) for rs in by.values() for r in rs])
    w = [r[6]["anomaly"] / r[4]["anomaly"] for rs in by.values() for r in rs[-200:]
         if r[4].get("anomaly", 0.0) > 0 and r[4].get("fail", 0.0) == 0]
    return ((a == 0).mean(), ((a > 0) & (a <= 0.5)).mean(), (a > 0.5).mean(),
            float(np.median(w)) if w else float("nan"))


def main() -> None:
    base_dir, opt_dir = sys.argv[1], sys.argv[2]
    moved: collections.Counter = collections.Counter()
    tops: collections.Counter = collections.Counter()
    n_new = 0
    for n in sorted(f[:-4] for f in os.listdir(opt_dir) if f.endswith(".pkl")):
        d0, b0 = rows(os.path.join(base_dir, n + ".pkl"))
        d1, b1 = rows(os.path.join(opt_dir, n + ".pkl"))
        x0, x1 = dist(b0), dist(b1)
        print(f"{n}: anomaly 0 / (0,.5] / >.5 {x0[0]:.3f} {x0[1]:.3f} {x0[2]:.3f} -> "
              f"{x1[0]:.3f} {x1[1]:.3f} {x1[2]:.3f}; weight {x0[3]:.2f} -> {x1[3]:.2f}")
        f0, f1 = falses(d0, b0), falses(d1, b1)
        for comp, eps in f1.items():
            alarm0 = np.array([r[2] >= THR for r in b0[comp]])
            for a, z in eps:
                if alarm0[a:z + 1].any():
                    continue  # the default alarmed there too
                n_new += 1
                r0, r1 = b0[comp][a], b1[comp][a]
                dt = {k: r1[6].get(k, 0.0) - r0[6].get(k, 0.0) for k in r1[6]}
                moved.update(dt)
                top = max(dt, key=lambda k: dt[k])
                tops[top] += 1
                print(f"  new F {comp} t={r1[1]} risk {r0[2]:.3f} -> {r1[2]:.3f} anomaly "
                      f"{r0[4]['anomaly']:.3f} -> {r1[4]['anomaly']:.3f} "
                      + " ".join(f"{k}{v:+.2f}" for k, v in dt.items() if abs(v) > 0.01))
        del f0
    print(f"new false episodes {n_new}; summed term moves (log-odds): "
          + " ".join(f"{k} {v:+.2f}" for k, v in moved.most_common()))
    print("largest upward move:", dict(tops))


if __name__ == "__main__":
    main()
