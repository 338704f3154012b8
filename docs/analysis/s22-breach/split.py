"""Live bytes per component by part (s22, issue #15): ``PYTHONPATH=. python split.py N
[KEY=VALUE ...]`` from a tree's root: N components of the bench's ``fleet`` warmed sample by
sample for an hour each (as ``streams.bench.memory child --live``), then the deep
``sys.getsizeof`` of each part of each component's state, an object counted once (the fleet's
learner first, so what it shares is left out): Python's object sizes, not RSS."""
import gc
import sys
import types
from dataclasses import replace
from typing import Any

from processors.pipeline import Pipeline
from streams.runtime.worker import pipeline_config
from streams.settings import Settings
from streams.sim.examples import fleet_samples


def deep(obj: Any, seen: set[int]) -> int:
    n, stack = 0, [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(o))
        n += sys.getsizeof(o)
        stack.extend(gc.get_referents(o))
    return n


def value(k: str, v: str) -> Any:
    return v == "1" if k == "alarm_learner" else float(v) if "." in v else int(v)


count = int(sys.argv[1])
cfg = {k: value(k, v) for k, v in (a.split("=", 1) for a in sys.argv[2:])}
p = Pipeline(replace(pipeline_config(Settings.load(env={})), **cfg))
for s in fleet_samples(count * 361, components=count):
    p.ingest(s)
gc.collect()
seen: set[int] = set()
deep(p.fleet, seen)
tot: dict[str, int] = {}
keep = []  # the parts' lists stay alive: a freed list's id would be taken for one seen
for st in p._states.values():
    learner, alarm = st.learner, st.learner.alarm
    parts = {"alarm.bn": getattr(alarm, "bn", None),
             "alarm.calibrator": getattr(alarm, "calibrator", None), "alarm (rest)": alarm,
             "bn": learner.bn, "calibrator": learner.calibrator, "combiner": learner.combiner,
             "learner (rest)": learner,
             "records": [getattr(o, "record", None) for o in st.outlooks.values()],
             "pending": st.pending, "outlooks": st.outlooks, "state (rest)": st}
    keep.append(parts)
    for k, v in parts.items():
        tot[k] = tot.get(k, 0) + deep(v, seen)
print(cfg, {k: round(v / count) for k, v in tot.items()}, "sum",
      round(sum(tot.values()) / count))
