"""How near the missed breaches came (s29, issue #15, recall): ``python near.py DIR``.

Per breach missed at 5 min: the largest risk its component emitted in ``[b - h, b - 5 min]``,
binned; and, for the record only (the threshold is the decision rule's, not a label-tuned
knob), the pooled risk-crossing precision and recall@5m at lower alarm points, by
``episodes.scen``'s arithmetic."""
import collections
import glob
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
sys.path.insert(0, os.path.dirname(__file__))
from causes import missed  # noqa: E402
from episodes import scen  # noqa: E402

EDGES = (0.05, 0.1, 0.2, 0.25, 0.3, 1 / 3)


def main(d: str) -> None:
    paths = [p for p in sorted(glob.glob(os.path.join(d, "*.pkl"))) if not p.endswith(".x.pkl")]
    ms = [m for p in paths for m in missed(p)]
    c = collections.Counter(next(f"<{e:.2f}" for e in EDGES if m["risk"] < e) for m in ms)
    print("missed@5m by the largest risk in [b-h, b-5m]:", dict(sorted(c.items())))
    for thr in (1 / 3, 0.3, 0.25, 0.2):
        t = collections.Counter()
        for p in paths:
            t.update(scen(p, thr))
        ep = t["true"] + t["false"]
        print(f"  alarm point {thr:.3f}: episodes {ep} precision {t['true'] / ep:.3f} "
              f"recall@5m {1 - t['missed@5m'] / t['breaches']:.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
