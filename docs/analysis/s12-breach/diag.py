"""False episodes of a fleet scenario: where they start (in FAIL or not), role, top contributor.

``python diag.py SCENARIO SEED [N_EXAMPLES [TAG]]``: counts per (true/false, in FAIL or not,
role, top contributor at the episode's first window), the first false episodes, and a pickle
of the risk records for ``byday.py`` in ``out/s12-breach/``."""
import collections
import sys
from dataclasses import replace

import numpy as np

from processors.pipeline import PipelineConfig
from streams.lab.backtest import breaches_of, failing_of
from streams.lab.replay import Replay, sample_messages
from streams.lab.scoring.breach import _episodes
from streams.sim.simulator import Fleet, scenario

name = sys.argv[1]; seed = int(sys.argv[2]); thr = 1/3; H = 900_000
base = PipelineConfig()
sc = scenario(name, seed=seed)
fleet = Fleet(sc)
base = replace(base, dependencies=tuple((c.id, d) for c in sc.components for d in c.depends_on))
recs = collections.defaultdict(list)
replay = Replay(base)
for r in replay.risk(sample_messages((s for step in fleet.run() for s in step), replay.codec)):
    recs[r["component"]].append(r)
truth = fleet.ground_truth()
breaches = breaches_of(truth, base.horizon_s * 1000)
failing = failing_of(truth)
br = collections.defaultdict(list)
for b in breaches: br[b.component].append(b.breach_ms)
import os
import pickle

os.makedirs("out/s12-breach", exist_ok=True)
tag = sys.argv[4] if len(sys.argv) > 4 else "x"
with open(f"out/s12-breach/{name}-{seed}-{tag}.pkl", "wb") as fh:
    pickle.dump({"recs": dict(recs), "breaches": breaches, "failing": failing}, fh)
cnt = collections.Counter(); ex = []
for comp, rs in recs.items():
    ts = np.array([r["ts"] for r in rs]); risk = np.array([r["risk"] for r in rs])
    b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
    for a, z in _episodes(risk >= thr):
        fol = any(((b > ts[i]) & (b <= ts[i] + H)).any() for i in range(a, z + 1)) if b.size else False
        inf = any(lo <= ts[a] < hi for lo, hi in failing.get(comp, []))
        cs = rs[a]["contributors"]
        tops = sorted(cs.items(), key=lambda kv: -kv[1])[:3] if isinstance(cs, dict) else list(cs)[:3]
        top = tops[0][0] if tops else "-"
        tod = (ts[a] // 60000) % 1440
        day = ts[a] // 86_400_000
        key = ("T" if fol else "F", "inFAIL" if inf else "out", comp.split("-")[0], top)
        cnt[key] += 1
        if not fol: ex.append((comp, int(day), f"{tod//60:02d}:{tod%60:02d}", z - a + 1, "inF" if inf else "out", top, round(float(risk[a]), 3), [(k, round(v, 2)) for k, v in tops], rs[a]["breach"]))
for k, v in sorted(cnt.items()): print(v, k)
for e in ex[:int(sys.argv[3]) if len(sys.argv) > 3 else 40]: print(e)
