"""Snapshot bytes per component with and without the breach records (s19): ``python
statesize.py [KEY=VALUE ...]``: every component of identity's ``mixed`` data set, replayed."""
import sys
from collections import deque
from dataclasses import replace

from processors.pipeline import Pipeline
from schemas.codec import Codec
from streams.bench.identity import datasets
from streams.lab.replay import Replay
from streams.runtime.worker import pipeline_config
from streams.settings import Settings

cfg: dict = {}
for arg in sys.argv[1:]:
    k, v = arg.split("=", 1)
    cfg[k] = float(v) if "." in v else int(v)
codec = Codec()
config = replace(pipeline_config(Settings.load(env={})), **cfg)
p = Pipeline(config)
rp = Replay(config, codec, pipeline=p)
deque(rp.outs(datasets()["mixed"](codec)), maxlen=0)  # replay it all, outputs dropped
sizes = {c: len(p.snapshot(c)) for c in p._states}
recs = sum(o.record is not None for s in p._states.values() for o in s.outlooks.values())
print(cfg, "components", len(sizes), "records", recs, "max bytes", max(sizes.values()),
      "mean", round(sum(sizes.values()) / len(sizes)), "total", sum(sizes.values()))
