"""docs/analysis/s23-trace/table.py with the ratios to four digits (the `--dom` reading too),
and forewarn's memory at its default and at lambda 1, 0.01, 3e-4, 1e-4 unrounded.

python docs/analysis/s26-prior/table4.py NAME=DIR [NAME=DIR ...]"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s23-trace"))
import table  # noqa: E402

table.ratio = lambda x: "n/a" if x is None else f"{x:.4f}x"


def main(argv: list[str]) -> None:
    runs = [a.split("=", 1) for a in argv]
    for dom in (False, True):
        for name, d in runs:
            for row in table.rows_of(name, d, dom):
                print(" | ".join(row))
    for name, d in runs:
        f = json.loads((Path(d) / "trace.json").read_text())["policies"]["forewarn"]
        m = f["mem"]
        print(name, "default", m["violation_minutes"], "min, slack", m["slack"],
              "resource-h", m["resource_hours"])
        for p in f["curve"]:
            if p["knob"] in (1.0, 0.01, 3e-4, 1e-4):
                print("  lambda", p["knob"], p["mem"]["violation_minutes"], "min @",
                      round(100 * p["mem"]["slack"], 3), "%")


if __name__ == "__main__":
    main(sys.argv[1:])
