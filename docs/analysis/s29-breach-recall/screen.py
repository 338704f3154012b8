"""A screening run against the default, on the pages and by cause (s29, issue #15, recall):
``python screen.py BASE NEW`` (dirs of ``capture.py`` / ``diag13.py``).

Pooled: the risk crossing's episodes / precision / recall@5m, the alarm state's pages (hA's
``whatif.py``, ``open:15`` at the alarm point: exactly the default's ``alarm_hold_s=900``) and
the Brier (``figures.json``); then BASE's missed@5m breaches by cause (``causes.py``) and how
many of each NEW catches, and the breaches NEW misses that BASE caught."""
import collections
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s29-breach-alarm"))
sys.path.insert(0, os.path.dirname(__file__))
import whatif  # noqa: E402

_glob = glob.glob
whatif.glob = type("G", (), {"glob": staticmethod(  # diag13's pickles, not capture.py's
    lambda pat: [p for p in _glob(pat) if not p.endswith(".x.pkl")])})
from causes import missed  # noqa: E402

FORM = f"open:15:{1 / 3}"


def pooled(d: str) -> str:
    tot: collections.Counter = collections.Counter()
    for c in whatif.run(d, FORM).values():
        tot.update(c)
    brier = json.load(open(os.path.join(d, "figures.json")))["scenarios"]["all"]["brier"]
    return f"{whatif.line(tot, 'risk')} | pages {whatif.line(tot, 'strict')} | Brier {brier:.5f}"


def keys(d: str) -> dict:
    return {(m["scenario"], m["comp"], m["metric"], m["b"]): m
            for p in sorted(glob.glob(os.path.join(d, "*.pkl"))) if not p.endswith(".x.pkl")
            for m in missed(p)}


def main(base: str, new: str) -> None:
    print("BASE", pooled(base))
    print("NEW ", pooled(new))
    a, b = keys(base), keys(new)
    by = collections.Counter(m["cause"] for m in a.values())
    got = collections.Counter(m["cause"] for k, m in a.items() if k not in b)
    print("BASE's misses by cause, caught by NEW:",
          {c: f"{got[c]}/{n}" for c, n in by.most_common()})
    lost = [k for k in b if k not in a]
    print(f"NEW misses {len(lost)} that BASE caught:", collections.Counter(k[0] for k in lost))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
