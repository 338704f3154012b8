"""One VM's whole closed loop (`run_component`: the pipeline, every policy over its knob sweep,
the figures) on its first STEPS steps, for a Callgrind count (issue #11 speed, s22): the
instructions do not move with the machine's load, unlike CPU-seconds. Run it twice, with
STEPS and 0, and take the difference (0: the start-up, reading and imports only).

cd TREE && PYTHONPATH=. valgrind --tool=callgrind --callgrind-out-file=OUT \\
    python docs/analysis/s22-tracespeed/count.py VM STEPS"""
import dataclasses
import sys

from processors.pipeline import PipelineConfig
from streams.lab.trace.loop import POLICIES, knob_grid, run_component
from streams.sim.traces import read_bitbrains

if __name__ == "__main__":
    vm, steps = sys.argv[1], int(sys.argv[2])
    tr = read_bitbrains(f"/work/shared/data/bitbrains/rnd/2013-7/{vm}.csv.gz",
                        component=f"2013-7/{vm}")
    cut = dataclasses.replace(tr, ts=tr.ts[:steps],
                              demand={k: v[:steps] for k, v in tr.demand.items()},
                              capacity={k: v[:steps] for k, v in tr.capacity.items()})
    if steps:
        run_component(cut, list(POLICIES), knob_grid(POLICIES, True), 300, PipelineConfig(), {})
