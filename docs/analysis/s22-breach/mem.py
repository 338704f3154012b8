"""``python -m streams.bench.memory child --live`` with PipelineConfig fields set (the flip
without editing the defaults; s22, issue #15): ``PYTHONPATH=. python mem.py COMPONENTS
[KEY=VALUE ...]`` from a tree's root; prints the bench's JSON with ``cfg``."""
import json
import sys
from dataclasses import replace
from typing import Any

import streams.runtime.worker as worker
from streams.bench.memory import child_live


def value(k: str, v: str) -> Any:
    return v == "1" if k in ("alarm_learner", "alarm_reach") else float(v) if "." in v else int(v)


cfg = {k: value(k, v) for k, v in (a.split("=", 1) for a in sys.argv[2:])}
base = worker.pipeline_config
worker.pipeline_config = lambda s: replace(base(s), **cfg)  # child_live reads it at call time
r = child_live(int(sys.argv[1]))
print(json.dumps({**r, "cfg": cfg}))
