"""The alarm state's pages at other alarm points, for the record (s29, issue #15, recall):
``python point.py DIR [POINT ...]`` (DIR: a ``diag13.py`` run). The alarm point is the decision
rule's (``risk_threshold`` from ``miss_cost_ratio``), not a knob tuned on labels: this shows
how much of the missed recall sits just under it. hA's ``whatif.py`` with its ``THR`` set to
the point (the alarm fires at it, holds ``open:15`` at it; pages, recall and precision count
windows at it)."""
import glob
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s29-breach-alarm"))
import whatif  # noqa: E402

_glob = glob.glob
whatif.glob = type("G", (), {"glob": staticmethod(  # diag13's pickles, not capture.py's
    lambda pat: [p for p in _glob(pat) if not p.endswith(".x.pkl")])})


def main(d: str, points: list[float]) -> None:
    for p in points:
        whatif.THR = p
        print(f"point {p:.3f}:", end=" ")
        whatif.main(d, [f"open:15:{p}"])


if __name__ == "__main__":
    main(sys.argv[1], [float(x) for x in sys.argv[2:]] or [1 / 3, 0.3, 0.25])
