"""The alarm calibrator's ceiling over time (s29, issue #15, recall): ``python ceiling.py DIR
SCENARIO`` (DIR: a ``capture.py`` run). Per component and day: the ceiling (the calibrated
value of a combiner score of 1: what no evidence can exceed) at the day's end, its lowest in
the day, the model's labels and the share of the day's windows where it stood under 1/3;
``--muted`` for SCENARIO: every scenario's windows with the ceiling under 1/3, by component."""
import collections
import os
import pickle
import sys


def muted(d: str) -> None:
    """``ceiling.py DIR --muted``: per scenario, the windows whose ceiling was under 1/3."""
    import glob
    tot = n = 0
    for p in sorted(glob.glob(os.path.join(d, "*.x.pkl"))):
        x = pickle.load(open(p, "rb"))
        rows = pickle.load(open(p[:-6] + ".pkl", "rb"))["rows"]
        low = collections.Counter(r[0] for r, e in zip(rows, x, strict=True)
                                  if e.get("ceiling", 1.0) < 1 / 3)
        tot, n = tot + sum(low.values()), n + len(x)
        if low:
            print(os.path.basename(p)[:-6], dict(low))
    print(f"windows with the ceiling under 1/3: {tot} of {n}")


def main(d: str, name: str) -> None:
    rows = pickle.load(open(os.path.join(d, name + ".pkl"), "rb"))
    x = pickle.load(open(os.path.join(d, name + ".x.pkl"), "rb"))
    start = min(s for s, _ in rows["spans"].values())
    by: dict = collections.defaultdict(list)
    for r, e in zip(rows["rows"], x, strict=True):
        if "ceiling" in e:
            by[(r[0], (r[1] - start) // 86_400_000)].append(e)
    for (comp, day), es in sorted(by.items()):
        low = sum(e["ceiling"] < 1 / 3 for e in es) / len(es)
        lowest = min(e["ceiling"] for e in es)
        print(f"{comp:18} day {day}: ceiling end {es[-1]['ceiling']:.3f} min {lowest:.3f} "
              f"labels {es[-1]['labels']:6} under 1/3 {low:.2f}")


if __name__ == "__main__":
    muted(sys.argv[1]) if sys.argv[2] == "--muted" else main(sys.argv[1], sys.argv[2])
