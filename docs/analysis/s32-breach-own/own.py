"""The false pages a component's OWN evidence opens (s32, issue #15): ``python own.py DIR
[--true]`` (DIR: a ``docs/analysis/s13-breach/diag13.py`` run at the default, with the alarm
state pickled).

The classes are s31's (``docs/analysis/s31-breach-parent/parentside.py``: ``floor`` /
``ctx`` / ``own`` by the page's opening window). Per ``own`` page (false; with ``--true`` the
true ones too): scenario, component, day and hour, the opener (largest positive log-odds
term), the terms at the opening window, the metric (at WARN, else the highest forecast band),
the forecast's ETA, windows at risk >= 1/3, the page's length, the highest rule status its
metrics reach within a horizon after its last hot window (2 WARN, 3 FAIL: how near the demand
came) and the ``growth`` evidence at the opening window (``--md``: the false ones as a
markdown table)."""
import collections
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "s31-breach-parent"))
sys.path.insert(0, os.path.join(HERE, "..", "s30-breach-cascade"))
sys.path.insert(0, os.path.join(HERE, "..", "s30-breach-false"))
import cascade  # noqa: E402
from cascade import THR, H  # noqa: E402
from falsepages import metric_of, opener  # noqa: E402
from parentside import all_pages  # noqa: E402

DAY = 86_400_000
TERMS = ("breach", "warn", "fail", "anomaly", "growth", "bn", "context")


def status_after(c, a: int, z: int) -> int:
    """The highest rule status (code // 3) of a metric of ``c`` from the page's start to a
    horizon after its last hot window."""
    hot = np.flatnonzero(c.risk[a:z + 1] >= THR)
    tl = c.ts[a + int(hot[-1])] if hot.size else c.ts[z]
    j = np.flatnonzero((c.ts >= c.ts[a]) & (c.ts <= tl + H))
    return max((v // 3 for i in j for m, v in c.rows[i][5].items() if m != "context"),
               default=0)


def describe(scen: dict, p: dict) -> dict:
    c = scen[p["scenario"]][p["comp"]]
    a, z = p["a"], p["z"]
    r = c.rows[a]
    t = r[6]
    start = c.span[0]
    return {**p, "opener": opener(t), "metric": metric_of(r[5]),
            "day": int((c.ts[a] - start) // DAY), "hour": (int(c.ts[a]) % DAY) / 3.6e6,
            "terms": " ".join(f"{k}{t.get(k, 0.0):+.2f}" for k in TERMS if t.get(k, 0.0)),
            "x": r[4], "codes": r[5], "eta": c.eta[a], "risk0": float(c.risk[a]),
            "len": (int(c.ts[z]) - int(c.ts[a])) / 6e4 + 1,
            "after": status_after(c, a, z), "growth": int(r[4].get("growth", 0.0) > 0.0)}


AFTER = {0: "-", 1: "OK", 2: "WARN", 3: "FAIL"}


def markdown(seed: int, own: list[dict]) -> None:
    """One table row per false ``own`` page."""
    for p in sorted(own, key=lambda p: (p["scenario"], p["comp"], p["t0"])):
        if p["true"]:
            continue
        eta = "-" if p["eta"] != p["eta"] else f"{p['eta']:.0f}"
        print(f"| {seed} | {p['scenario']} | {p['comp'].split('/')[0]} | d{p['day']} "
              f"{p['hour']:.2f} h | {p['opener']} | {p['metric']} | {eta} | {p['risk0']:.2f} / "
              f"{p['risk']:.2f} | {p['hot']} / {p['len']:.0f} | {p['growth']} | "
              f"{AFTER[p['after']]} |")


def main(d: str, with_true: bool) -> list[dict]:
    seed, scen = cascade.load(d)
    _, ps = all_pages(scen)
    own = [describe(scen, p) for p in ps if p["cls"] == "own"]
    f = [p for p in own if not p["true"]]
    if "--md" in sys.argv:
        markdown(seed, own)
        return own
    print(f"seed {seed}: own pages {len(own)}, false {len(f)}")
    for p in sorted(own, key=lambda p: (p["true"], p["scenario"], p["comp"], p["t0"])):
        if p["true"] and not with_true:
            continue
        codes = {m: v for m, v in p["codes"].items() if v and m != "context"}
        print(f"  {'T' if p['true'] else 'F'} {p['scenario']:23} {p['comp']:10} d{p['day']} "
              f"{p['hour']:5.2f}h {p['opener']:7} {p['metric']:14} eta {p['eta']:6.0f} "
              f"r0 {p['risk0']:.2f} max {p['risk']:.2f} hot {p['hot']:3} len {p['len']:4.0f} "
              f"after {p['after']} | {p['terms']} | {codes}")
    for key in ("scenario", "opener", "metric", "after"):
        print(f"  by {key}: false", dict(collections.Counter(p[key] for p in f).most_common()),
              "true", dict(collections.Counter(p[key] for p in own if p["true"]).most_common()))
    return own


if __name__ == "__main__":
    main(sys.argv[1], "--true" in sys.argv)
