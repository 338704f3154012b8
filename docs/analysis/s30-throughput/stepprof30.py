"""s30 (hT): per-function Callgrind costs per sample between two of steady30.sh's runs (the
work on the samples between their ``--upto`` counts), side by side for several spans, e.g. the
four quarters of the contract line's 240 samples a component:

    python docs/analysis/s30-throughput/stepprof30.py DIR MODE 0,3000 3000,6000 6000,9000 \\
        9000,12000 [--top N] [--inclusive] [--match SUBSTRING]

A span ``0,K`` reads ``cg.MODE.u0.out`` (a run stopped before its first sample).
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "s23-throughput"))
from profile23 import costs  # noqa: E402


def main(argv: list[str]) -> None:
    inclusive = "--inclusive" in argv
    top, match = 40, ""
    args = [a for a in argv if a != "--inclusive"]
    if "--top" in args:
        i = args.index("--top")
        top = int(args[i + 1])
        del args[i:i + 2]
    if "--match" in args:
        i = args.index("--match")
        match = args[i + 1]
        del args[i:i + 2]
    folder, mode, spans = args[0], args[1], [tuple(map(int, s.split(","))) for s in args[2:]]
    cache: dict[int, dict[str, int]] = {}

    def at(k: int) -> dict[str, int]:
        if k not in cache:
            cache[k] = costs(f"{folder}/cg.{mode}.u{k}.out", inclusive)
        return cache[k]

    per: list[dict[str, float]] = []
    for a, b in spans:
        one, two = at(a), at(b)
        per.append({k: (two.get(k, 0) - one.get(k, 0)) / (b - a) for k in set(one) | set(two)})
    last = per[-1]
    names = [k for k in sorted(last, key=lambda k: -abs(last[k])) if match in k][:top]
    print(f"{mode} {'inclusive' if inclusive else 'self'} instructions a sample, spans "
          + "  ".join(f"{a}-{b}" for a, b in spans))
    if not inclusive:
        print("".join(f"{sum(p.values()):12,.0f}" for p in per) + "  (sum of self)")
    for k in names:
        print("".join(f"{p.get(k, 0):12,.0f}" for p in per) + f"  {k[:140]}")


if __name__ == "__main__":
    main(sys.argv[1:])
