"""A digest of every checkpoint frame the worker's in-process work writes (#14, s29).

``streams.bench.inproc``'s loop (the bench's ``fleet`` batches, polls of ``--poll`` messages
through ``MetricsHandler.handle_batch``, ``--poll 1``: one a poll), each checkpoint the
poll makes due framed (``CheckpointedPipeline.checkpoint(c, now_ms=0)``: the ``FWCP`` frame,
its JSON header and the snapshot), then every component once more at the end; prints a
SHA-256 of all the frames in order and of the outputs. The same before and after a change to
the worker's glue (pure against compiled: the frames are byte-identical).

    PYTHONPATH=. python docs/analysis/s29-worker/frames29.py [--samples 3000] [--poll 64]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
from typing import Any


def _due_into(due: dict[str, None], pipe: Any) -> None:
    due.update(dict.fromkeys(pipe.due()))


def main() -> None:
    import processors
    from schemas.codec import Codec
    from streams.bench.throughput import encode_batches
    from streams.handler import MetricsHandler
    from streams.lab.message import Message
    from streams.runtime.checkpoint import CheckpointedPipeline, CheckpointPolicy
    from streams.runtime.worker import pipeline_config
    from streams.settings import Settings
    from streams.sim.examples import fleet_samples

    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--poll", type=int, default=64)
    args = ap.parse_args()
    settings, codec = Settings.load(env={}), Codec()
    batches = encode_batches(codec, fleet_samples(args.samples))
    pipe = CheckpointedPipeline(pipeline_config(settings), settings.topic("metrics"),
                                CheckpointPolicy.from_settings(settings))
    handler = MetricsHandler(pipe, codec, settings.topic, wall_clock_ms=lambda: 0)
    frames, outs, n = hashlib.sha256(), hashlib.sha256(), 0
    for i in range(0, len(batches), args.poll):
        due: dict[str, None] = {}
        msgs = [Message(v, k, "metrics", 0, i + j, 0)
                for j, (k, v, _) in enumerate(batches[i:i + args.poll])]
        got = handler.handle_batch(msgs, pipe.at, functools.partial(_due_into, due, pipe))
        for mine in got:
            for o in mine:
                outs.update(o.topic.encode() + o.key + o.value)
        for c in due:
            if (ck := pipe.checkpoint(c, now_ms=0)) is not None:
                frames.update(ck[1])
                n += 1
    for c in sorted(pipe.components()):
        if (ck := pipe.checkpoint(c, now_ms=0)) is not None:
            frames.update(ck[1])
            n += 1
    import streams.handler

    print(f"native {processors.NATIVE is not None}, glue compiled "
          f"{not streams.handler.__file__.endswith('.py')}: {n} frames, digest "
          f"{frames.hexdigest()[:16]}; outputs {outs.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
