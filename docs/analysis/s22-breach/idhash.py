"""A digest of every output of ``streams.bench.identity``'s data sets with PipelineConfig fields
set (s22, issue #15): ``PYTHONPATH=. python idhash.py [--batch N] KEY=VALUE ...`` from a tree's
root; two trees whose lines are equal give the same outputs, byte for byte, under the option."""
import hashlib
import sys
from dataclasses import replace
from typing import Any

from processors.batch.pipeline import BatchPipeline
from schemas.codec import Codec
from streams.bench.identity import batched_outs, datasets
from streams.lab.replay import Replay
from streams.runtime.worker import pipeline_config
from streams.settings import Settings


def value(k: str, v: str) -> Any:
    return v == "1" if k in ("alarm_learner", "alarm_reach") else float(v) if "." in v else int(v)


args = sys.argv[1:]
batch = int(args[args.index("--batch") + 1]) if "--batch" in args else 0
cfg = {k: value(k, v) for k, v in (a.split("=", 1) for a in args if "=" in a)}
for name, make in datasets().items():
    codec = Codec()
    config = replace(pipeline_config(Settings.load(env={})), **cfg)
    replay = Replay(config, codec, pipeline=BatchPipeline(config) if batch else None)
    messages = make(codec)
    got = batched_outs(replay, messages, batch) if batch else replay.outs(messages)
    h, n = hashlib.sha256(), 0
    for o in got:
        key = o.key if isinstance(o.key, bytes | bytearray) else str(o.key).encode()
        h.update(o.topic.encode() + b"\0" + bytes(key) + b"\0" + o.value)
        n += 1
    print(name, n, h.hexdigest()[:16], flush=True)
