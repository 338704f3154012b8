"""What ``context_lasting`` moved (s32, issue #15): ``python diffpages.py BASE NEW``: pooled and
per-scenario pages / false / precision / recall@5m / Brier (``figures.json``), and the pages
(``parentside.py``'s recount, by opening class) present in one run and not the other."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "s31-breach-parent"))
import parentside  # noqa: E402,I001
import cascade  # noqa: E402


def fig(d: str) -> dict:
    return json.load(open(os.path.join(d, "figures.json")))["scenarios"]


def line(f: dict) -> str:
    n = f.get("episodes", 0)
    t = f.get("true_episodes", 0)
    return (f"{n:4} / {n - t:3} / {f['precision']:.4f} / {f['recall']['300']:.4f} / "
            f"{f['brier']:.6f}")


def main(base: str, new: str) -> None:
    fb, fn = fig(base), fig(new)
    for name in sorted(fn, key=lambda k: (k == "all", k)):
        mark = "" if fb[name] == fn[name] else "  *"
        print(f"{name:24} {line(fb[name])}  ->  {line(fn[name])}{mark}")
    pages = {}
    for tag, d in (("base", base), ("new", new)):
        _, scen = cascade.load(d)
        _, ps = parentside.all_pages(scen)
        pages[tag] = {(p["scenario"], p["comp"], round(p["min"])): p for p in ps}
    for tag, other in (("base", "new"), ("new", "base")):
        for k in sorted(set(pages[tag]) - set(pages[other])):
            p = pages[tag][k]
            print(f"only in {tag:4}: {'T' if p['true'] else 'F'} {p['cls']:5} {k[0]:20} "
                  f"{k[1]:16} min {k[2]:6} windows {p['z'] - p['a'] + 1}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
