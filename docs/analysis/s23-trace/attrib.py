"""Which VMs make a matched-slack cell: forewarn's curve read at the peer's default slack is
a linear mix of two λ points (the efficient points that bracket it), so its violation minutes
are a sum over VMs of the same mix; per VM: the peer's minutes at its default, forewarn's at
the mix, the excess over the goal (forewarn - 0.5 x peer), and each one's unused capacity
(alloc - used, in core-hours or GiB-hours) — where each policy spends its slack.

python docs/analysis/s23-trace/attrib.py OUT PEER RES [FIRST LAST] [--top N]
(OUT: a `backtest trace --policy all --out OUT` folder; FIRST..LAST: VM numbers, a fold)"""
import json
import sys
from pathlib import Path

import numpy as np

from streams.lab.trace.summary import _curve, _resource

UNIT = {"cpu": 2926.0 * 3600, "mem": 1024.0 ** 2 * 3600}  # MHz-s per core-h, KB-s per GiB-h


def vm_no(run: dict) -> int:
    return int(run["component"].rsplit("/", 1)[-1])


def bracket(runs: list, res: str, slack: float) -> tuple[int, int, float]:
    """Knob indices (in runs' order) of the two efficient points around ``slack`` and the
    weight of the second (flat beyond the last point, as the README's reading)."""
    knobs = runs[0]["policies"]["forewarn"]["knobs"]
    entries = [r["policies"]["forewarn"][res] for r in runs]
    pts = [(_resource(entries, k)["slack"], _resource(entries, k)["violation_minutes"], k)
           for k in range(len(knobs))]
    entry = {"curve": [{res: {"slack": s, "violation_minutes": v}} for s, v, _ in pts]}
    xs, ys = _curve(entry, res)
    idx = [next(k for s, v, k in pts if s == x and v == y) for x, y in zip(xs, ys, strict=True)]
    if slack >= xs[-1]:
        return idx[-1], idx[-1], 0.0
    j = int(np.searchsorted(xs, slack))
    if j == 0:
        raise SystemExit(f"slack {slack:.4f} below forewarn's curve ({xs[0]:.4f})")
    t = (slack - xs[j - 1]) / (xs[j] - xs[j - 1])
    return idx[j - 1], idx[j], float(t)


def main(argv: list[str]) -> None:
    top = 12
    if "--top" in argv:
        i = argv.index("--top")
        top = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    out, peer, res = argv[0], argv[1], argv[2]
    runs = json.loads((Path(out) / "runs.json").read_text())
    if len(argv) > 3:
        lo, hi = int(argv[3]), int(argv[4])
        runs = [r for r in runs if lo <= vm_no(r) <= hi]
    pe = _resource([r["policies"][peer][res] for r in runs], 0)
    k1, k2, t = bracket(runs, res, pe["slack"])
    lam = runs[0]["policies"]["forewarn"]["knobs"]
    rows = []
    for r in runs:
        f, p = r["policies"]["forewarn"][res], r["policies"][peer][res]
        fv = ((1 - t) * f["violation_s"][k1] + t * f["violation_s"][k2]) / 60
        fu = ((1 - t) * (f["alloc"][k1] - f["used"][k1]) + t * (f["alloc"][k2] - f["used"][k2]))
        pv, pu = p["violation_s"][0] / 60, p["alloc"][0] - p["used"][0]
        rows.append((r["component"], r["steps"], pv, fv, fv - 0.5 * pv, pu / UNIT[res],
                     fu / UNIT[res], f["base"]))
    tp, tf = sum(x[2] for x in rows), sum(x[3] for x in rows)
    print(f"{out} {peer} {res}: {len(runs)} VMs, peer slack {pe['slack']:.4f}, forewarn at "
          f"λ {lam[k1]:g} x {1 - t:.3f} + λ {lam[k2]:g} x {t:.3f}: {tf:,.0f} / {tp:,.0f} min "
          f"= {tf / tp:.3f}x")
    print(f"{'vm':>12} {'steps':>6} {'peer min':>9} {'fw min':>9} {'excess':>9} "
          f"{'peer unused':>11} {'fw unused':>10} {'size':>10}")
    for row in sorted(rows, key=lambda x: -x[4])[:top]:
        print(f"{row[0]:>12} {row[1]:>6} {row[2]:>9,.0f} {row[3]:>9,.0f} {row[4]:>9,.0f} "
              f"{row[5]:>11,.1f} {row[6]:>10,.1f} {row[7]:>10,.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
