"""forewarn's memory curve (violation minutes @ slack per lambda, all VMs) of several
`backtest trace` outputs side by side (their trace.json), and each peer's memory point at its
default knob.

python docs/analysis/s25-trace-young/curve.py NAME=DIR [NAME=DIR ...] [--res mem]"""
import json
import sys
from pathlib import Path


def main(argv):
    res = argv[argv.index("--res") + 1] if "--res" in argv else "mem"
    runs = [a.split("=", 1) for a in argv if "=" in a]
    docs = {n: json.loads((Path(d) / "trace.json").read_text()) for n, d in runs}
    first = next(iter(docs.values()))
    for p in ("static", "reactive", "vpa", "autopilot"):
        pt = first["policies"][p][res]
        print(f"{p:>10} {pt['violation_minutes']:>10,.0f} @ {100 * pt['slack']:.1f} %")
    print("    lambda " + "".join(f"{n:>24}" for n in docs))
    curves = {n: {c["knob"]: c[res] for c in d["policies"]["forewarn"]["curve"]}
              for n, d in docs.items()}
    for k in curves[runs[0][0]]:
        row = [curves[n].get(k) for n in docs]
        print(f"{k:>10g} " + "".join(
            f"{x['violation_minutes']:>14,.0f} @ {100 * x['slack']:5.1f} %" if x else " " * 24
            for x in row))


if __name__ == "__main__":
    main(sys.argv[1:])
