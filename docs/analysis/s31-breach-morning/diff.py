"""Pages of the default's run and the option's, scenario by scenario (s31, #15):
``python diff.py BASE OPT`` (diag13 runs; OPT may hold a subset of BASE's scenarios).

Per scenario in OPT: pages / true / false of each and the pages (``falsepages.pages``, the
scorer's count) found in one run only, by component, start, true or false and kind
(``season:day0``: a seasonal scenario's first day, the class ``morning_eta`` is for)."""
import glob
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s30-breach-false"))
from falsepages import pages  # noqa: E402


def key(p: dict) -> tuple:
    return (p["comp"], p["t0"], p["true"])


def main(base: str, opt: str) -> None:
    for path in sorted(glob.glob(os.path.join(opt, "*.pkl"))):
        name = os.path.basename(path)
        a, b = pages(os.path.join(base, name)), pages(path)

        def tally(ps: list[dict]) -> str:
            t = sum(p["true"] for p in ps)
            f = sum(not p["true"] and not p["censored"] for p in ps)
            return f"pages {t + f:3} true {t:3} false {f:3}"
        print(f"{name[:-4]:20} default {tally(a)} | option {tally(b)}")
        ka, kb = {key(p): p for p in a}, {key(p): p for p in b}
        for tag, one, other in (("only default", ka, kb), ("only option", kb, ka)):
            for k in sorted(set(one) - set(other)):
                p = one[k]
                print(f"    {tag}: {p['comp']:14} hour {p['hour']:2} day0 {int(p['day0'])} "
                      f"{'TRUE ' if p['true'] else 'false'} {p['kind']:14} opener {p['opener']:8}"
                      f" metric {p['metric']} held {p['held']:.0f} min")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
