"""s27 (hK): a snapshot's and a restore's instructions, alone (Callgrind on the bench's states).

    PYTHONPATH=. python docs/analysis/s27-checkpoint/snap27.py prep /tmp/states.pkl --samples 3000
    PYTHONPATH=. valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/dev/null \
        python docs/analysis/s27-checkpoint/snap27.py snapshot /tmp/states.pkl --reps 4
    (or ``restore``): Callgrind's "Collected" is the instructions of REPS x the states' snapshots
    (restores) only: instrumentation is on only around them (cgmark.c via ctypes, CGMARK=path
    of its .so; without it the runs are timed by CPU instead). ``digest``: a SHA-256 of every
    state's snapshot, ``size``: their mean bytes.

``prep`` warms the bench's fleet (``snapbench.warm``: the worker's batch path over
``fleet_samples``) and keeps every component's snapshot; the other modes restore them into a
``CheckpointedPipeline`` of the same settings first, so trees can be compared on the same states
(restoring a VERSION 3 state in a VERSION 4 tree is part of what is checked).
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import os
import pickle
import sys
import time
from pathlib import Path


def pipeline():  # type: ignore[no-untyped-def]
    from streams.runtime.checkpoint import CheckpointedPipeline, CheckpointPolicy
    from streams.runtime.worker import pipeline_config
    from streams.settings import Settings

    settings = Settings.load(env={})
    return CheckpointedPipeline(pipeline_config(settings), settings.topic("metrics"),
                                CheckpointPolicy.from_settings(settings))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["prep", "snapshot", "restore", "digest", "size"])
    ap.add_argument("states")
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--reps", type=int, default=4)
    args = ap.parse_args()
    if args.mode == "prep":
        sys.path.insert(0, str(Path(__file__).parents[1] / "s24-throughput"))
        from snapbench import warm  # type: ignore[import-not-found]
        pipe = warm(args.samples)
        blobs = [(c, pipe.snapshot(c)) for c in sorted(pipe.components())]
        Path(args.states).write_bytes(pickle.dumps(blobs))
        print("states", len(blobs), "mean bytes", sum(len(b) for _, b in blobs) / len(blobs))
        return
    blobs = pickle.loads(Path(args.states).read_bytes())
    pipe = pipeline()
    for c, b in blobs:
        pipe.restore(c, b)
    comps = [c for c, _ in blobs]
    if args.mode in ("digest", "size"):
        snaps = [pipe.snapshot(c) for c in comps]
        h = hashlib.sha256(b"".join(snaps)).hexdigest()[:16]
        print("digest", h, "mean bytes", sum(map(len, snaps)) / len(snaps),
              "components", len(snaps))
        return
    lib = ctypes.CDLL(os.environ["CGMARK"]) if os.environ.get("CGMARK") else None
    work = [(c, pipe.snapshot(c)) for c in comps]  # this tree's own bytes for restore
    t0 = time.process_time()
    if lib is not None:
        lib.cg_start()
    if args.mode == "snapshot":
        for _ in range(args.reps):
            for c in comps:
                pipe.snapshot(c)
    else:
        for _ in range(args.reps):
            for c, b in work:
                pipe.restore(c, b)
    if lib is not None:
        lib.cg_stop()
    n = args.reps * len(comps)
    print(f"{args.mode}: {n} of them, {1e6 * (time.process_time() - t0) / n:.0f} µs each (CPU)")


if __name__ == "__main__":
    main()
