"""s31 (hB): the Bayes network's calls of one labelled window in the steady state, alone: a
component's network and the fleet's, 8 rule-metric nodes each (the bench fleet's), learnt on
200 windows first; a round is what the pipeline does with them per labelled window (s30's
probe: 3 ``explain`` and 2 ``learn_one`` a window): ``explain`` on each network (``learn_pair``)
and ``learn_one`` on each, and one ``explain`` of the next window (judging). Under Callgrind the
runs with ``--rounds`` R and 0 differ by R rounds (start-up cancels):

    OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python docs/analysis/s31-throughput-labels/micro31.py --rounds 3000   # and 0

The states and labels are seeded: both trees do the same calls on the same counts.
"""

from __future__ import annotations

import argparse
import random

NODES = ("cpu.util", "disk.io_util", "disk.used_pct", "errors.rate", "latency.p99_ms",
         "mem.used_pct", "net.util", "swap.used_pct")


def main(argv: list[str] | None = None) -> None:
    from processors.bayesnet import BayesNet

    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3000)
    args = ap.parse_args(argv)
    rng = random.Random(31)
    weights = [40, 20, 5, 12, 8, 2, 6, 3, 1, 1, 1, 1]  # mostly calm states
    windows = [({n: rng.choices(range(12), weights)[0] for n in NODES}, rng.random() < 0.05)
               for _ in range(200 + args.rounds + 1)]
    own, fleet = BayesNet(), BayesNet()
    for states, y in windows[:200]:
        own.learn_one(states, y)
        fleet.learn_one(states, y)
    total = 0.0
    for i in range(200, 200 + args.rounds):
        states, y = windows[i]
        for bn in (own, fleet):
            total += sum(bn.explain(states).values())
            bn.learn_one(states, y)
        total += sum(own.explain(windows[i + 1][0]).values())
    print(f"{args.rounds} rounds, checksum {total!r}")


if __name__ == "__main__":
    main()
