"""What the first day's mixture as the alarm's only changes in the worker's outputs, per
message: ``PYTHONPATH=. python docs/analysis/s20-breach/hn_identity.py [--batch N] [NAME ...]``
(run from the tree's root; issue #15, s20, hN). For each of ``streams.bench.identity``'s data
sets, two fresh replays as identity runs them, the default and ``dayprofile.BLIND`` 0.5 with
``BLIND_ALARM``, decoded and compared message by message: the fields that differ and in how
many messages (risk messages: the RiskScore's fields; other topics: the raw bytes)."""
import json
import sys
from collections import Counter

from processors import dayprofile
from schemas.codec import Codec
from streams.bench.identity import batched_outs, datasets
from streams.lab.replay import Replay
from streams.runtime.worker import pipeline_config
from streams.settings import Settings


def outs(name: str, batch: int, blind: float, alarm: bool) -> list[tuple[str, bytes, object]]:
    from processors.batch.pipeline import BatchPipeline

    dayprofile.BLIND, dayprofile.BLIND_ALARM = blind, alarm
    codec = Codec()
    config = pipeline_config(Settings.load(env={}))
    replay = Replay(config, codec, pipeline=BatchPipeline(config) if batch else None)
    messages = datasets()[name](codec)
    got = batched_outs(replay, messages, batch) if batch else replay.outs(messages)
    return [(o.topic, o.key, codec.decode(o.value)[1] if o.topic == "risk" else o.value)
            for o in got]


def main() -> None:
    args = sys.argv[1:]
    batch = int(args[args.index("--batch") + 1]) if "--batch" in args else 0
    only = [a for a in args if not a.startswith("--") and not a.isdigit()]
    for name in datasets():
        if only and name not in only:
            continue
        base, blind = outs(name, batch, 1.0, False), outs(name, batch, 0.5, True)
        diff: Counter[str] = Counter()
        risk = 0
        for (t0, k0, v0), (t1, k1, v1) in zip(base, blind, strict=True):
            assert (t0, k0) == (t1, k1)
            if isinstance(v0, dict) and isinstance(v1, dict):
                risk += 1
                diff.update(f for f in v0 if v0[f] != v1[f])
            elif v0 != v1:
                diff[t0] += 1
        print(f"{name:48} {json.dumps({'outputs': len(base), 'risk': risk, 'differ': diff})}",
              flush=True)


if __name__ == "__main__":
    main()
