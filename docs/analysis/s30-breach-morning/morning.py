"""The first morning, window by window (s30, issue #15): ``python morning.py DIR SCENARIO
[COMP] [--from MIN] [--to MIN]`` (DIR: a ``trace.py`` run: ``.pkl``, ``.x.pkl``, ``.t.pkl``).
Per component, the windows from the first morning peak's start (``streams.sim``'s
``morning_peak`` incident, day 0) ``--from`` to ``--to`` minutes: minutes since the ramp's
start, the risk, the page (``alarm``), the raw ``p_new`` and the alarm's (after the season
cap), and for the metric with the highest breach p: its window mean, FAIL, the profile's
folded top (what ``recent_ceiling`` reads), the bin under way's max, the ceiling (``-``: none),
and the forecast mean at the horizon."""
import argparse
import collections
import os
import pickle

from streams.sim.scenarios import scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("scenario")
    ap.add_argument("comp", nargs="?")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--from", dest="lo", type=float, default=-10)
    ap.add_argument("--to", dest="hi", type=float, default=40)
    a = ap.parse_args()
    base = os.path.join(a.dir, a.scenario)
    d = pickle.load(open(base + ".pkl", "rb"))
    x = pickle.load(open(base + ".x.pkl", "rb"))
    t = pickle.load(open(base + ".t.pkl", "rb"))
    sc = scenario(a.scenario, a.seed)
    ramp = {}
    for inc in sc.incidents:
        if inc.kind == "morning_peak" and inc.component not in ramp:
            ramp[inc.component] = inc.start_ms
    brs = collections.defaultdict(list)
    for b in d["breaches"]:
        brs[b.component].append(b.breach_ms)
    for i, r in enumerate(d["rows"]):
        comp, ts = r[0], r[1]
        if a.comp and comp != a.comp:
            continue
        m = (ts - ramp[comp]) / 6e4
        if not a.lo <= m <= a.hi:
            continue
        ms = t[i]["m"]
        if not ms:
            continue
        key = max(ms, key=lambda k: (ms[k][7] or 0.0))
        mean, top, cur, blind, ceil, fail, sign, bp, fc = ms[key]
        far = max(fc or [(0, float("nan"))])[1]
        nb = [round((b - ts) / 6e4, 1) for b in brs[comp] if 0 <= b - ts <= 3_600_000]
        print(f"{comp:15} {m:6.1f} risk {r[2]:.2f} page {int(bool(d['alarm'][i]))} "
              f"raw {x[i]['raw']:.2f} cap {x[i]['cap']:.2f} | {key:13} mean {mean:7.3f} "
              f"fail {fail:6.2f} top {top if top is None else round(top, 3)} "
              f"cur {cur if cur is None else round(cur, 3)} blind {int(blind)} "
              f"ceil {'-' if ceil is None else round(ceil, 3)} f@H {far:7.3f} bp {bp or 0:.2f}"
              f" breach_in {nb[:1]}")


if __name__ == "__main__":
    main()
