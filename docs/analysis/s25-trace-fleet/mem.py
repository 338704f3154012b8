"""forewarn's memory at its default (violation minutes, slack, resource-hours as the trace
summary counts them: VM sizes x hours) and on its lambda curve (minutes @ slack at lambda 1,
0.01, 3e-4), per run directory (a trace command output).

python docs/analysis/s25-trace-fleet/mem.py NAME=DIR [NAME=DIR ...]"""
import json
import sys
from pathlib import Path

LAMS = (1.0, 0.01, 3e-4)


def main(argv: list[str]) -> None:
    for arg in argv:
        name, d = arg.split("=", 1)
        f = json.loads((Path(d) / "trace.json").read_text())["policies"]["forewarn"]
        m = f["mem"]
        pts = {p["knob"]: p["mem"] for p in f["curve"]}
        curve = "; ".join(f"lambda {k:g}: {pts[k]['violation_minutes']:,.0f} min @ "
                          f"{100 * pts[k]['slack']:.1f} %" for k in LAMS if k in pts)
        rh, vs = m["resource_hours"], m["resource_hours_vs_static"]
        print(f"{name}: default {m['violation_minutes']:,.0f} min @ {100 * m['slack']:.1f} % "
              f"slack, {rh:,.0f} resource-h ({vs:.3f} of static); {curve}")


if __name__ == "__main__":
    main(sys.argv[1:])
