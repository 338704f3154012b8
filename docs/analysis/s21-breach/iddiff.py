"""What an option changes in the worker's outputs, per message: ``PYTHONPATH=. python
docs/analysis/s21-breach/iddiff.py [--batch N] KEY=VALUE ... [NAME ...]`` (from the tree's root;
issue #15, s21; after s20's ``hn_identity.py``). For each of ``streams.bench.identity``'s data
sets, two fresh replays as identity runs them, the default and the default with the
PipelineConfig fields KEY=VALUE, decoded and compared message by message: the fields that
differ and in how many messages (risk messages: the RiskScore's fields; other topics: the
raw bytes), and in how many messages what the allocators read (``actuators.signal``) does."""
import json
import sys
from collections import Counter
from dataclasses import replace

from actuators.signal import signal
from schemas.codec import Codec
from streams.bench.identity import batched_outs, datasets
from streams.lab.replay import Replay
from streams.runtime.worker import pipeline_config
from streams.settings import Settings


def outs(name: str, batch: int, cfg: dict) -> list[tuple[str, bytes, object]]:
    from processors.batch.pipeline import BatchPipeline

    codec = Codec()
    config = replace(pipeline_config(Settings.load(env={})), **cfg)
    replay = Replay(config, codec, pipeline=BatchPipeline(config) if batch else None)
    messages = datasets()[name](codec)
    got = batched_outs(replay, messages, batch) if batch else replay.outs(messages)
    return [(o.topic, o.key, codec.decode(o.value)[1] if o.topic == "risk" else o.value)
            for o in got]


def main() -> None:
    args = sys.argv[1:]
    batch = int(args[args.index("--batch") + 1]) if "--batch" in args else 0
    cfg = {k: float(v) if "." in v else int(v) for k, v in
           (a.split("=", 1) for a in args if "=" in a)}
    only = [a for a in args if not a.startswith("--") and not a.isdigit() and "=" not in a]
    for name in datasets():
        if only and name not in only:
            continue
        base, new = outs(name, batch, {}), outs(name, batch, cfg)
        diff: Counter[str] = Counter()
        risk = 0
        for (t0, k0, v0), (t1, k1, v1) in zip(base, new, strict=True):
            assert (t0, k0) == (t1, k1)
            if isinstance(v0, dict) and isinstance(v1, dict):
                risk += 1
                diff.update(f for f in v0 if v0[f] != v1[f])
                diff["signal"] += signal(v0) != signal(v1)
            elif v0 != v1:
                diff[t0] += 1
        print(f"{name:48} {json.dumps({'outputs': len(base), 'risk': risk, 'differ': diff})}",
              flush=True)


if __name__ == "__main__":
    main()
