"""The exact what-if of ``cascade_rooted`` on a default run (s31, issue #15):
``python rooted.py DIR [--scenarios]`` (DIR: a ``docs/analysis/s13-breach/diag13.py`` run at the
default, ``cascade_page`` on). Pages, precision, recall@5m and the Brier's range
(``parentside.whatif``), and with ``--scenarios`` per scenario where anything moved."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parentside  # noqa: E402,I001  (puts s30-breach-cascade on the path)
import cascade  # noqa: E402


def main(d: str, per: bool) -> None:
    r = parentside.whatif(d, parentside.keep_rooted, "cascade_rooted")
    if not per:
        return
    scen = r["scen"]
    for name in scen:
        one = {name: scen[name]}
        a = cascade.score(one)
        b = cascade.score(one, r["risk"], r["alarm"])
        if (a["episodes"], a["true"], a["R5"]) != (b["episodes"], b["true"], b["R5"]):
            print(f"  {name:24} pages {a['episodes']:3} false {a['episodes'] - a['true']:3} "
                  f"R@5m {a['R5']:.3f} -> {b['episodes']:3} / {b['episodes'] - b['true']:3} / "
                  f"{b['R5']:.3f}")
    for (name, comp), new in sorted(r["risk"].items()):
        c = scen[name][comp]
        gone = new != c.risk
        print(f"    unfloored {name:20} {comp:16} windows {int(gone.sum()):4} "
              f"at min {((c.ts[gone][0] - c.span[0]) / 6e4):.0f}")


if __name__ == "__main__":
    main(sys.argv[1], "--scenarios" in sys.argv)
