"""Read a trial against the peers: python read.py NAME[:RES] ... (NAME 'base' = forewarn of the
build runs). Prints per fold (A 1-50, B 51-100, all) the 8 matched cells and reactive-mem dominance."""
import json
import sys
from pathlib import Path

import numpy as np

from streams.lab.trace.summary import _curve, _resource, read_curve

PEERS = ("static", "reactive", "vpa", "autopilot")
RUNS = {}
def runs(i):
    if i not in RUNS:
        RUNS[i] = json.loads(Path(f"/tmp/hC/runs/{i}.json").read_text())
    return RUNS[i]

def fw_entries(name, res, vms):
    if name == "base":
        return [runs(i)["policies"]["forewarn"][res] for i in vms], runs(vms[0])["policies"]["forewarn"]["knobs"]
    es = [json.loads(Path(f"/tmp/hC/trials/{name}/{res}/{i}.json").read_text()) for i in vms]
    return es, es[0]["knobs"]

def curve_entry(entries, knobs, res):
    return {"curve": [{"knob": knobs[k], res: {kk: _resource(entries, k)[kk] for kk in ("violation_minutes", "slack")}}
                      for k in sorted(range(len(knobs)), key=lambda i: knobs[i])]}

def reading(names, vms):
    out = {}
    for res in ("cpu", "mem"):
        name = names.get(res, "base")
        es, knobs = fw_entries(name, res, vms)
        fw = curve_entry(es, knobs, res)
        for peer in PEERS:
            pe = [runs(i)["policies"][peer][res] for i in vms]
            d = _resource(pe, 0)
            v = read_curve(fw, res, d["slack"])
            out[f"{peer}.{res}"] = (None if v is None else v / d["violation_minutes"] if d["violation_minutes"] > 0 else 0.0,
                                    d["violation_minutes"], d["slack"], v)
        pk = runs(vms[0])["policies"]["reactive"]["knobs"]
        rc = curve_entry([runs(i)["policies"]["reactive"][res] for i in vms], pk, res)
        fx, fy = _curve(fw, res); px, py = _curve(rc, res)
        a, b = max(0.2, fx[0], px[0]), min(0.8, fx[-1], px[-1])
        if a <= b:
            g = np.linspace(a, b, 41); f, p = np.interp(g, fx, fy), np.interp(g, px, py)
            out[f"dom.reactive.{res}"] = (float((f / np.maximum(p, 1e-12)).max()), float(g[int(np.argmax(f / np.maximum(p, 1e-12)))]))
        pts = sorted((p[res]["slack"], p[res]["violation_minutes"], p["knob"]) for p in fw["curve"])
        out[f"curve.{res}"] = pts
    return out

def show(names, label):
    vmsets = {"A": list(range(1, 51)), "B": list(range(51, 101)), "all": list(range(1, 101))}
    for fold, vms in vmsets.items():
        try:
            r = reading(names, vms)
        except FileNotFoundError:
            continue
        cells = []
        met = 0
        for res in ("cpu", "mem"):
            for peer in PEERS:
                ratio, pv, ps, fv = r[f"{peer}.{res}"]
                ok = ratio is not None and ratio <= 0.5
                met += ok
                cells.append(f"{peer[:4]}.{res}={'NR' if ratio is None else f'{ratio:.3f}'}{'' if ok else '*'}")
        print(f"{label} {fold}: met {met}/8  " + " ".join(cells)
              + f"  dom.react.mem={r['dom.reactive.mem'][0]:.2f}@{r['dom.reactive.mem'][1]:.3f}"
              + f"  dom.react.cpu={r['dom.reactive.cpu'][0]:.2f}")
        if "-v" in sys.argv:
            for res in ("mem",):
                print("   ", res, " ".join(f"{k:g}:{v:.0f}@{100*s:.1f}" for s, v, k in r[f"curve.{res}"]))
                for peer in PEERS:
                    ratio, pv, ps, fv = r[f"{peer}.{res}"]
                    print(f"    {peer} {pv:.0f}@{100*ps:.2f} fw={fv}")

if __name__ == "__main__":
    for arg in [a for a in sys.argv[1:] if not a.startswith("-")]:
        name, _, res = arg.partition(":")
        names = {r: name for r in (res.split(",") if res else ("cpu", "mem"))}
        show(names, arg)
