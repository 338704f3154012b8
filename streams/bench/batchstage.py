"""The window-feature stage alone, per component against the batch kernel, in one run (#14).

The bench data (``fleet_samples``: 50 components, 12 metrics, 10 s apart) is added to two
identical sets of windowers in polls of ``--poll`` samples; after each poll the windows due
are closed, on one side by ``Windower.advance`` per component, on the other by
:func:`processors.batch.features.advance_all`. Only the closing is timed (CPU time), the two
sides alternate poll by poll (so load hits both alike), and their closed windows are checked
equal bit for bit. Repeated ``--runs`` times; medians::

    python -m streams.bench.batchstage [--samples 12000] [--poll 600] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from processors.batch.features import advance_all
from processors.config import PipelineConfig
from processors.features import Windower
from streams.sim.examples import fleet_samples


def one_run(samples: list[dict[str, Any]], poll: int) -> dict[str, float]:
    """CPU seconds to close the windows, per component and batched, over the samples."""
    c = PipelineConfig()
    one: dict[str, Windower] = {}
    many: dict[str, Windower] = {}
    t_one = t_many = 0.0
    windows = 0
    clock = time.process_time
    for i in range(0, len(samples), poll):
        for s in samples[i:i + poll]:
            for side in (one, many):
                w = side.setdefault(s["component"], Windower(c.window_s, c.lateness_s))
                w.add(s["ts"], s["metrics"])
        names = sorted(one)
        t0 = clock()
        singles = [one[n].advance() for n in names]
        t1 = clock()
        together = advance_all([many[n] for n in names])
        t2 = clock()
        t_one += t1 - t0
        t_many += t2 - t1
        if [repr(x) for x in singles] != [repr(x) for x in together]:
            raise AssertionError(f"poll {i // poll}: batch windows differ from per-component")
        windows += sum(len(x) for x in singles)
    return {"windows": windows, "per_component_us_per_window": 1e6 * t_one / windows,
            "batch_us_per_window": 1e6 * t_many / windows, "ratio": t_one / t_many}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.bench.batchstage")
    p.add_argument("--samples", type=int, default=12_000)
    p.add_argument("--poll", type=int, default=600, help="samples per poll (20 MetricBatches)")
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    samples = fleet_samples(args.samples)
    runs = [one_run(samples, args.poll) for _ in range(args.runs)]
    for r in runs:
        print(" ".join(f"{k}={v:.2f}" for k, v in r.items()))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"median of {args.runs}: {med['per_component_us_per_window']:.1f} µs per window "
          f"per component, {med['batch_us_per_window']:.1f} batched: "
          f"{med['ratio']:.2f}x ({int(med['windows'])} windows a run, bit-identical)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
