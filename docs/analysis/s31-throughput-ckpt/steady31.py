"""s31 (hT): s30's steady state (``steady30.py``: one pipeline as ``inproc`` over the bench's
``fleet`` batches of 12,000 samples, 240 a component) with Callgrind's instrumentation on only
from the poll that starts at or after ``--from`` samples to the end (``cgmark.c`` via ctypes,
``CGMARK`` = the path of its .so): one run under
``valgrind --tool=callgrind --instr-atstart=no`` counts the work on samples FROM..SAMPLES alone,
where steady30.sh takes the difference of two runs.

    OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0 CGMARK=/tmp/cgmark.so valgrind --tool=callgrind \\
        --instr-atstart=no --callgrind-out-file=F python \\
        docs/analysis/s31-throughput-ckpt/steady31.py --from 9000 --batches /tmp/steady30-12000.pkl

A poll's due checkpoints are written as the worker writes them (``step_batch``): in one
round (``CheckpointedPipeline.checkpoints``, s31) where the tree has it, else (or with
``--one-by-one``) one by one, as every tree before s31.
``--digest``: a SHA-256 of every checkpoint value written (its ``written_ms`` is 0), to hold
two trees' checkpoint bytes against each other over the whole run.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import hashlib
import os
import pickle


def main(argv: list[str] | None = None) -> None:
    from schemas.codec import Codec
    from streams.handler import MetricsHandler
    from streams.lab.message import Message
    from streams.runtime.checkpoint import CheckpointedPipeline, CheckpointPolicy
    from streams.runtime.gctune import tune_gc
    from streams.runtime.worker import pipeline_config
    from streams.settings import Settings

    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="start", type=int, default=9000)
    ap.add_argument("--batches", required=True, help="steady30.py's pickle of the batches")
    ap.add_argument("--digest", action="store_true")
    ap.add_argument("--one-by-one", action="store_true",
                    help="checkpoint each due component on its own, as before s31")
    args = ap.parse_args(argv)
    settings = Settings.load(env={})
    codec = Codec()
    with open(args.batches, "rb") as f:
        batches = pickle.load(f)
    lib = ctypes.CDLL(os.environ["CGMARK"]) if os.environ.get("CGMARK") else None
    poll = max(1, settings.worker_batch)
    tune_gc(settings.worker_gc_gen0)
    pipe = CheckpointedPipeline(pipeline_config(settings), settings.topic("metrics"),
                                CheckpointPolicy.from_settings(settings))
    handler = MetricsHandler(pipe, codec, settings.topic, wall_clock_ms=lambda: 0)
    digest = hashlib.sha256()
    done, i, on, counted, cks = 0, 0, False, 0, 0
    while i < len(batches):
        if not on and done >= args.start and lib is not None:
            lib.cg_start()
            on = True
        first = done
        chunk = batches[i:i + poll]
        i += len(chunk)
        done += sum(b[2] for b in chunk)
        due: dict[str, None] = {}
        msgs = [Message(v, k, "metrics", 0, i - len(chunk) + j, 0)
                for j, (k, v, _) in enumerate(chunk)]
        handler.handle_batch(msgs, pipe.at, functools.partial(_due_into, due, pipe))
        # a poll's due checkpoints as the worker frames them (step_batch: one round, s31)
        rounds = None if args.one_by_one else getattr(pipe, "checkpoints", None)
        for got in (rounds(list(due), 0) if rounds is not None
                    else [pipe.checkpoint(c, now_ms=0) for c in due]):
            cks += 1
            if args.digest and got is not None:
                digest.update(got[1])
        if on:
            counted += done - first
    if lib is not None:
        lib.cg_stop()
    print(f"{done} samples, {i} messages, {counted} counted, {cks} checkpoints"
          + (f", digest {digest.hexdigest()[:16]}" if args.digest else ""))


def _due_into(due: dict[str, None], pipe: object) -> None:
    due.update(dict.fromkeys(pipe.due()))  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
