"""In-process CPU seconds of forewarn's CPU sizer over whole traces (every lambda of the grid, as
the command runs it) with an option off and on (default ``day``: "" and "cpu"), alternated on
the same VMs after the risks are computed once; ``--aa 1``: both arms off (the noise).
(s29's `cost.py` for any one option.)

python docs/analysis/s30-closedloop/daycost.py VMS [--rounds 2] [--aa 1] [--key day] [--on cpu]"""
import sys
import time

from actuators.rightsize import POLICIES
from streams.lab.trace.loop import allocations, knob_grid, risk_by_step
from streams.sim.traces import load_traces

DATA = "/work/shared/data/bitbrains/rnd"


def main(argv: list[str]) -> None:
    a, b = map(int, argv[0].split("-"))
    opts = dict(zip(argv[1::2], argv[2::2], strict=False))
    rounds, key = int(opts.get("--rounds", 2)), opts.get("--key", "day")
    arms = ("", "") if opts.get("--aa") == "1" else ("", opts.get("--on", "cpu"))
    traces = load_traces(DATA, [f"2013-7/{i}" for i in range(a, b + 1)])
    grid = knob_grid(POLICIES, True, {})["forewarn"]
    risks = [risk_by_step(t, None) for t in traces]
    cpu = [0.0, 0.0]
    for _ in range(rounds):
        for arm, value in enumerate(arms):
            t0 = time.process_time()
            for t, r in zip(traces, risks, strict=True):
                allocations(t, "forewarn", "cpu", grid, 300, r, {key: value})
            cpu[arm] += time.process_time() - t0
    steps = sum(len(t) for t in traces)
    print(f"{len(traces)} VMs, {steps} steps, {rounds} rounds: {key} {arms[0]!r} {cpu[0]:.2f} "
          f"CPU-s, {key} {arms[1]!r} {cpu[1]:.2f} CPU-s ({cpu[1] / cpu[0] - 1:+.1%})")


if __name__ == "__main__":
    main(sys.argv[1:])
