"""A bench with ``cascade_page`` on or off (s30, issue #15): ``python benchwrap.py on|off|on+deps|
off+deps memory|instructions ARGS...``. ``streams.bench.memory`` and
``streams.bench.instructions`` load their settings with no environment, so
``FOREWARN_PIPELINE__CASCADE_PAGE`` does not reach them; this wraps ``pipeline_config`` (as s29's
``memwrap.py``). ``+deps``: with the bench fleet's own dependencies (its ``depends_on``), which
the benches' default pipeline does not have (no component has a parent there)."""
import sys
from dataclasses import replace

import streams.runtime.worker as w

orig = w.pipeline_config
extra: dict = {"cascade_page": True} if sys.argv[1].startswith("on") else {}
if sys.argv[1].endswith("+deps"):
    from streams.sim.examples import COMPONENTS
    from streams.sim.simulator import scenario
    sc = scenario("fleet", seed=42, n_components=COMPONENTS)
    extra["dependencies"] = tuple((c.id, d) for c in sc.components for d in c.depends_on)
w.pipeline_config = lambda s: replace(orig(s), **extra)
if sys.argv[2] == "memory":
    from streams.bench import memory
    sys.exit(memory.main(sys.argv[3:]))
from streams.bench import instructions  # noqa: E402
instructions.main(sys.argv[3:])
