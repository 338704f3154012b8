"""Per VM, the same steps sized warm (policies running since the trace's first step) and cold
(starting at the window), from `warm.py`'s OUT: the peer's minutes at its default and
forewarn's at a fixed mix of two λ (the fleet's matched point, from `attrib.py`), summed over
the VMs; and the unused capacity of each, so that minutes are read beside what they cost.

python docs/analysis/s23-trace/coldwarm.py OUT PEER RES LAM1 W1 LAM2 [--top N]
(forewarn at LAM1 x W1 + LAM2 x (1 - W1))"""
import json
import sys
from pathlib import Path

UNIT = {"cpu": 2926.0 * 3600, "mem": 1024.0 ** 2 * 3600}


def main(argv: list[str]) -> None:
    out, peer, res = Path(argv[0]), argv[1], argv[2]
    l1, w1, l2 = float(argv[3]), float(argv[4]), float(argv[5])
    runs = {n: {r["component"]: r for r in json.loads((out / n / "runs.json").read_text())}
            for n in ("warm", "cold")}
    tot = {n: [0.0, 0.0, 0.0, 0.0] for n in runs}
    print(f"{'vm':>12} {'peer warm':>9} {'peer cold':>9} {'fw warm':>8} {'fw cold':>8} "
          f"{'fw unused warm':>14} {'cold':>8}")
    for vm in runs["cold"]:
        line = [vm]
        vals = {}
        for n in ("warm", "cold"):
            f = runs[n][vm]["policies"]["forewarn"]
            k1, k2 = f["knobs"].index(l1), f["knobs"].index(l2)
            e, p = f[res], runs[n][vm]["policies"][peer][res]
            fv = (w1 * e["violation_s"][k1] + (1 - w1) * e["violation_s"][k2]) / 60
            fu = (w1 * (e["alloc"][k1] - e["used"][k1])
                  + (1 - w1) * (e["alloc"][k2] - e["used"][k2])) / UNIT[res]
            pv = p["violation_s"][0] / 60
            pu = (p["alloc"][0] - p["used"][0]) / UNIT[res]
            vals[n] = (pv, fv, fu, pu)
            for i, x in enumerate(vals[n]):
                tot[n][i] += x
        line += [vals["warm"][0], vals["cold"][0], vals["warm"][1], vals["cold"][1],
                 vals["warm"][2], vals["cold"][2]]
        print(f"{line[0]:>12} " + " ".join(f"{x:>9,.0f}" for x in line[1:5]) +
              f" {line[5]:>14,.0f} {line[6]:>8,.0f}")
    for n in ("warm", "cold"):
        pv, fv, fu, pu = tot[n]
        print(f"{n}: {peer} {pv:,.0f} min ({pu:,.0f} unused), forewarn {fv:,.0f} min "
              f"({fu:,.0f} unused): {fv / pv:.3f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
