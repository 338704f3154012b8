"""What-ifs of a cascade gate that does not count a stale WARN (s28, issue #15):
``python stale.py DIR [K_MIN ...]`` (a dir of ``docs/analysis/s13-breach/diag13.py``).

The default's `alarm_cascade`: in a rule FAIL with no other metric (below its FAIL band) at
WARN or forecast to breach, the alarm is at most the previous window's. Here a metric at WARN
(level band 2) names the cascade only while its WARN spell (consecutive windows in the band)
is younger than K minutes (``warn``), or, ``any``: while its evidence run (WARN or a
forecast) is younger than K; a forecast without WARN counts as before in ``warn``. On the
emitted risk (exact for the gate: the recorded alarm is min(raw, previous)), the learning
and the hold unchanged. Pooled over the dir's scenarios and per scenario: episodes, false,
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


def named(rs: list, i: int, runs: dict, mode: str, k_ms: float, ts: np.ndarray) -> bool:
    for m, s in rs[i][5].items():
        if m == "context" or not evid(s):
            continue
        if mode == "none":
            return True
        if mode == "warn" and s < WARN_STATE:
            return True
        if ts[i] - runs[m] < k_ms:
            return True
    return False


def run(d: str, mode: str, k_min: float) -> dict:
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
            runs: dict = {}
            new = risk.copy()
            for i in range(risk.size):
                st = rs[i][5]
                for m, s in st.items():
                    on = (s >= WARN_STATE and s < FAIL_STATE) if mode == "warn" else evid(s)
                    if not on:
                        runs.pop(m, None)
                    elif m not in runs:
                        runs[m] = ts[i]
                if (i and rs[i][4].get("fail", 0.0) > 0 and mode != "none"
                        and not named(rs, i, runs, mode, k_min * 60_000, ts)):
                    new[i] = min(risk[i], new[i - 1])
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
    return (f"{tag:22} ep {ep:4} false {c['F']:4} P {c['T'] / max(ep, 1):.3f} "
            f"R@5m {c['hit'] / max(c['breaches'], 1):.3f} Brier {c['sq'] / max(c['n'], 1):.4f}")


def main(d: str, ks: list[float]) -> None:
    base = run(d, "none", 0)
    for mode, k in [("none", 0.0)] + [(m, k) for k in ks for m in ("warn", "any")]:
        res = base if mode == "none" else run(d, mode, k)
        tot: collections.Counter = collections.Counter()
        for c in res.values():
            tot.update(c)
        print(line(f"{mode} {k:g}", tot))
        if mode != "none":
            for name, c in sorted(res.items()):
                if (c["T"], c["F"], c["hit"]) != (base[name]["T"], base[name]["F"],
                                                  base[name]["hit"]):
                    print("   ", line(name, base[name]), "->", line("", c)[23:])


if __name__ == "__main__":
    main(sys.argv[1], [float(x) for x in sys.argv[2:]] or [15.0])
