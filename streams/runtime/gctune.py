"""The worker process's garbage collector, tuned for a pipeline that allocates a lot (#14).

CPython's cyclic collector runs its youngest generation every 700 net allocations of
container objects, and the older ones every 10 runs of the one below. The pipeline allocates
many short-lived containers (record dicts, feature tuples, lists per window), almost all freed
at once by reference counting, while the model state it keeps (every component's outlooks,
windows and learners) is large: so the collector ran ~600 times over the 12,000 bench samples
and spent 0.28-0.37 s of ~1.6 s of CPU in them (17-22 %), mostly scanning live state that
could not be garbage (docs/throughput.md, "the garbage collector"). Collecting the youngest
generation every ``gen0`` (10,000 by default, ``worker_gc_gen0``) net allocations instead
cuts that to a few collections; garbage cycles, which this code rarely makes, wait for at
most ``gen0`` allocations more. Outputs cannot change: the collector frees only objects no
code can reach.

>>> import gc
>>> before = gc.get_threshold()
>>> tune_gc(0) == before
True
>>> tune_gc(10_000)[0], gc.get_threshold()[1:] == before[1:]
(10000, True)
>>> _ = gc.set_threshold(*before)
"""

from __future__ import annotations

import gc

__all__ = ["tune_gc"]


def tune_gc(gen0: int) -> tuple[int, ...]:
    """Run the youngest generation's collection every ``gen0`` net allocations (0: leave
    Python's setting); the older generations keep their ratios. The thresholds now."""
    if gen0 > 0:
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(gen0, gen1, gen2)
    return gc.get_threshold()
