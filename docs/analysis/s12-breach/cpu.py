"""CPU per sample of the pipeline (risk events of a replay), on the first ``hours`` of a
simulated scenario, with ``day_profile_bins`` = ``bins`` (0: no time-of-day profile):
``python cpu.py daily_peaks 28 48`` and ``... 28 0`` alternately, compare the medians.
Prints ``us_per_sample`` (process CPU time)."""

import sys
import time
from dataclasses import replace

from processors.pipeline import PipelineConfig
from streams.lab.replay import Replay, sample_messages
from streams.sim.simulator import Fleet, scenario

name, hours, bins = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
sc = scenario(name, seed=42, duration_s=int(hours * 3600))
base = replace(PipelineConfig(day_profile_bins=bins),
               dependencies=tuple((c.id, d) for c in sc.components for d in c.depends_on))
samples = [s for step in Fleet(sc).run() for s in step]
replay = Replay(base)
msgs = list(sample_messages(iter(samples), replay.codec))
t0 = time.process_time()
n = sum(1 for _ in replay.risk(iter(msgs)))
cpu = time.process_time() - t0
print(f"{name} {hours} h, bins {bins}: {len(msgs)} samples, {n} risk events, "
      f"us_per_sample {1e6 * cpu / len(msgs):.1f}")
