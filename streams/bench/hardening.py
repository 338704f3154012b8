"""What the bad-input hardening costs the worker's hot path, side by side.

The worker's handler and checkpointed pipeline (no Kafka: the CPU bound of a worker) over the
same encoded stream of the simulated fleet (``streams.sim.examples.fleet_samples``, 12 metrics
a sample, one MetricSample a message), twice per run, in alternating order:

* ``hardened``: as a live worker runs by default: wall-clock time bounds (``TimeBounds``),
  ``max_components`` (the least-recently-seen order is kept per sample) and idle eviction,
  the pipeline's ``max_jump_s`` and ``max_metrics``;
* ``off``: all of them off (``max_jump_s=0``, no bounds, no cap, no eviction).

Reported: samples per CPU second of each (process time, so other load on the machine
matters less; median of ``--runs``) and their ratio.

    .venv/bin/python -m streams.bench.hardening --samples 30000 --runs 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from processors.pipeline import PipelineConfig
from schemas.codec import Codec
from streams.handler import MetricsHandler, TimeBounds
from streams.runtime.checkpoint import CheckpointedPipeline
from streams.sim.examples import fleet_samples


def one_pass(values: list[bytes], hardened: bool, now_ms: int) -> float:
    """Samples per second of one handler over ``values``."""
    if hardened:
        cfg = PipelineConfig()
        pipe = CheckpointedPipeline(cfg, "forewarn.metrics", max_components=50_000,
                                    evict_idle_s=6 * 3600)
        bounds: TimeBounds | None = TimeBounds(3600, 10**12)
    else:
        cfg = PipelineConfig(max_jump_s=0, max_metrics=10**9)
        pipe = CheckpointedPipeline(cfg, "forewarn.metrics")
        bounds = None
    handler = MetricsHandler(pipe, Codec(), lambda n: f"forewarn.{n}",
                             wall_clock_ms=lambda: now_ms, time_bounds=bounds)
    t = time.process_time()  # CPU time: the machine may be shared
    for offset, value in enumerate(values):
        pipe.at(0, offset)
        handler.handle(value, None, "forewarn.metrics", 0, offset)
        if hardened:
            for comp, _ in pipe.evictable():  # none are due here: the check is the cost
                pipe.forget(comp)
    return len(values) / (time.process_time() - t)


def run(samples: int, runs: int) -> dict[str, Any]:
    codec = Codec()
    data = fleet_samples(samples)
    values = [codec.encode("MetricSample", s) for s in data]
    now_ms = max(s["ts"] for s in data) + 60_000
    rates: dict[str, list[float]] = {"hardened": [], "off": []}
    for i in range(runs):
        order = ("hardened", "off") if i % 2 == 0 else ("off", "hardened")
        for name in order:
            rates[name].append(one_pass(values, name == "hardened", now_ms))
    med = {k: statistics.median(v) for k, v in rates.items()}
    return {"samples": samples, "runs": runs,
            "hardened_samples_s": round(med["hardened"]), "off_samples_s": round(med["off"]),
            "ratio": round(med["hardened"] / med["off"], 3),
            "all": {k: [round(x) for x in v] for k, v in rates.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=30_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(json.dumps(run(args.samples, args.runs)))


if __name__ == "__main__":
    main()
