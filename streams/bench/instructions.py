"""Instructions per sample of the worker's in-process work, counted by Valgrind (#14).

On a machine shared by several busy processes, CPU time per sample moves by 10-30 % between
runs of the same code (``python -m streams.bench.throughput inproc``), more than most single
changes gain. Instructions executed do not depend on the load. This runs ``inproc`` (the
worker's handler and checkpoints over the bench's ``fleet`` batches, polls of ``--poll``
messages) ``--passes`` times in one process; run it under Callgrind with 1 and 2 passes::

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python -m streams.bench.instructions --samples 3000 --passes 1   # and --passes 2

and the difference of the two ``I refs`` totals, over ``--samples``, is the instructions of
one pass per sample: start-up, imports and making the data cancel out. Each pass builds a
new pipeline on the same batches; the second finds the process's caches warm (interned
strings, ``lru_cache``\\ s), as a long-running worker does. An instruction is not a unit of
time (a numpy call's and a dict lookup's cost differ per instruction), so this complements
the CPU time of ``inproc`` beside it, it does not replace it. Valgrind runs ~50x slower:
run it under ``nice``; the count does not change.

A pass includes ``inproc``'s closing checkpoint of every component (the state's size; s24: 36
snapshots of 3,000 samples' 50 components, against the pass's own 50 first checkpoints):
``--no-sizes`` leaves it out, for the worker's own work per sample.

Since s27 the handler's :class:`~schemas.codec.Codec` is made once per process, as a worker's;
until then ``inproc`` made one per pass, and its schemas' parsing (a start-up cost) was counted
in each pass: ``--codec-per-pass`` counts as before.
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    from schemas.codec import Codec
    from streams.bench.inproc import inproc
    from streams.bench.throughput import encode_batches
    from streams.settings import Settings
    from streams.sim.examples import fleet_samples

    ap = argparse.ArgumentParser(prog="python -m streams.bench.instructions")
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--passes", type=int, default=1)
    ap.add_argument("--poll", type=int, default=0, help="messages a poll (0: worker_batch)")
    ap.add_argument("--no-sizes", action="store_true",
                    help="without inproc's closing checkpoint of every component (s24)")
    ap.add_argument("--codec-per-pass", action="store_true",
                    help="a new Codec each pass, as the counts before s27 (~14,000 instructions "
                         "per sample of 3,000: its schemas parsed)")
    args = ap.parse_args(argv)
    settings = Settings.load(env={})
    codec = Codec()  # one for the process, as a worker's (s27: not one per pass)
    batches = encode_batches(codec, fleet_samples(args.samples))
    for _ in range(args.passes):
        inproc(settings, batches, args.poll, closing=not args.no_sizes,
               codec=None if args.codec_per_pass else codec)
    print(f"{args.passes} passes of {sum(b[2] for b in batches)} samples")


if __name__ == "__main__":
    main()
