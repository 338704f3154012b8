"""s30 (hT): the core in the contract line's steady state. One pipeline (as ``inproc``: the
handler, the worker's polls, due checkpoints) over the bench's ``fleet`` batches of ``--samples``
samples (12,000: 240 a component, the contract line's shape), stopped after the first ``--upto``
samples. Under Callgrind, two runs with ``--upto`` K1 < K2 differ by the work on samples K1..K2
only (start-up, imports and the data cancel): (I(K2) - I(K1)) / (K2 - K1) is the per-sample cost
at the components' ages K1/50..K2/50 samples.

    OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=F \\
        python docs/analysis/s30-throughput/steady30.py --samples 12000 --upto 9000   # and 12000

(``--batches F``: the encoded data pickled once, read by every run; steady30.sh passes it.)
"""

from __future__ import annotations

import argparse
import functools
import os
import pickle


def main(argv: list[str] | None = None) -> None:
    from schemas.codec import Codec
    from streams.bench.throughput import encode_batches
    from streams.handler import MetricsHandler
    from streams.lab.message import Message
    from streams.runtime.checkpoint import CheckpointedPipeline, CheckpointPolicy
    from streams.runtime.gctune import tune_gc
    from streams.runtime.worker import pipeline_config
    from streams.settings import Settings
    from streams.sim.examples import fleet_samples

    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=12000)
    ap.add_argument("--upto", type=int, default=12000)
    ap.add_argument("--batches", help="a pickle of the encoded batches (written if missing): "
                    "the runs under Callgrind skip making the data")
    args = ap.parse_args(argv)
    settings = Settings.load(env={})
    codec = Codec()
    if args.batches and os.path.exists(args.batches):
        with open(args.batches, "rb") as f:
            batches = pickle.load(f)
    else:
        batches = encode_batches(codec, fleet_samples(args.samples))
        if args.batches:
            with open(args.batches, "wb") as f:
                pickle.dump(batches, f)
    poll = max(1, settings.worker_batch)
    tune_gc(settings.worker_gc_gen0)
    pipe = CheckpointedPipeline(pipeline_config(settings), settings.topic("metrics"),
                                CheckpointPolicy.from_settings(settings))
    handler = MetricsHandler(pipe, codec, settings.topic, wall_clock_ms=lambda: 0)
    done, i = 0, 0
    while i < len(batches) and done < args.upto:
        chunk = []
        while i < len(batches) and len(chunk) < poll and done < args.upto:
            chunk.append(batches[i])
            done += batches[i][2]
            i += 1
        due: dict[str, None] = {}
        msgs = [Message(v, k, "metrics", 0, i - len(chunk) + j, 0)
                for j, (k, v, _) in enumerate(chunk)]
        handler.handle_batch(msgs, pipe.at, functools.partial(_due_into, due, pipe))
        for c in due:
            pipe.checkpoint(c, now_ms=0)
    print(f"{done} of {sum(b[2] for b in batches)} samples, {i} messages")


def _due_into(due: dict[str, None], pipe: object) -> None:
    due.update(dict.fromkeys(pipe.due()))  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
