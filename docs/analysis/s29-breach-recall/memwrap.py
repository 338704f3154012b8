"""``streams.bench.memory child --components 2000 --live`` with S1 (``forecast_trust`` 0) or the
default (s29, issue #15, recall): ``python memwrap.py s1|base``. The bench loads its settings
with no environment (``Settings.load(env={})``), so ``FOREWARN_PIPELINE__FORECAST_TRUST`` does not
reach it; this wraps ``pipeline_config`` instead."""
import sys
from dataclasses import replace

import streams.runtime.worker as w
from streams.bench import memory

orig = w.pipeline_config
if sys.argv[1] == "s1":
    w.pipeline_config = lambda s: replace(orig(s), forecast_trust=0.0)
sys.exit(memory.main(["child", "--components", "2000", "--live"]))
