"""s24 (hT): the snapshot path alone. Warms a CheckpointedPipeline on the bench's fleet data
(``--samples``, as ``streams.bench.instructions``), then snapshots every component ``--reps``
times: µs per snapshot (CPU), bytes, the zlib share; ``--profile`` prints cProfile's top
functions; ``--digest`` prints a SHA-256 of all the snapshots' bytes (the same before and
after a change to the writers: byte-identical checkpoints).

    PYTHONPATH=. python docs/analysis/s24-throughput/snapbench.py --samples 3000 --reps 20
"""

from __future__ import annotations

import argparse
import hashlib
import time
import zlib


def warm(samples: int):  # type: ignore[no-untyped-def]
    from schemas.codec import Codec
    from streams.bench.inproc import inproc
    from streams.bench.throughput import encode_batches
    from streams.runtime import checkpoint as ck
    from streams.settings import Settings
    from streams.sim.examples import fleet_samples

    keep = []
    orig = ck.CheckpointedPipeline

    def made(*a, **k):  # type: ignore[no-untyped-def]
        # the class itself is not patched: compiled since s29, its methods are read-only
        keep.append(orig(*a, **k))
        return keep[-1]
    ck.CheckpointedPipeline = made  # inproc imports it from the module when it runs
    try:
        inproc(Settings.load(env={}), encode_batches(Codec(), fleet_samples(samples)), 0)
    finally:
        ck.CheckpointedPipeline = orig
    return keep[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--digest", action="store_true")
    args = ap.parse_args()
    import processors
    from processors import stateformat
    pipe = warm(args.samples)
    comps = sorted(pipe.components())
    if args.digest:
        h = hashlib.sha256()
        for c in comps:
            h.update(pipe.snapshot(c))
        print("native", processors.NATIVE is not None, "digest", h.hexdigest()[:16],
              "components", len(comps))
        return
    if args.profile:
        import cProfile
        import pstats
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(args.reps):
            for c in comps:
                pipe.snapshot(c)
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(25)
        return
    raw = [zlib.decompress(pipe.snapshot(c)[4:]) for c in comps]  # s27: any version's
    t0 = time.process_time()
    for _ in range(args.reps):
        for c in comps:
            pipe.snapshot(c)
    t1 = time.process_time()
    for _ in range(args.reps):
        for r in raw:
            zlib.compress(r, stateformat.LEVEL)
    t2 = time.process_time()
    n = args.reps * len(comps)
    print(f"native {processors.NATIVE is not None}: {1e6 * (t1 - t0) / n:.0f} µs a snapshot "
          f"(zlib {1e6 * (t2 - t1) / n:.0f}), raw {sum(map(len, raw)) / len(raw):.0f} B, "
          f"{len(comps)} components x {args.reps}")


if __name__ == "__main__":
    main()
