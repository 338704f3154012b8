"""Diagnose false alarm episodes in a fleet scenario: which evidence drives them."""
import sys, json, collections, pickle
from dataclasses import replace
import numpy as np
from processors.pipeline import PipelineConfig
from processors.config import PipelineConfig as PC
from streams.lab.backtest import breaches_of, failing_of
from streams.lab.replay import Replay, sample_messages
from streams.lab.scoring.breach import RiskEvent, score_breaches, _episodes
from streams.sim.simulator import Fleet, scenario

name = sys.argv[1]; seed = int(sys.argv[2]); thr = float(sys.argv[3]) if len(sys.argv) > 3 else 1/3
base = PipelineConfig()
sc = scenario(name, seed=seed)
fleet = Fleet(sc)
base = replace(base, dependencies=tuple((c.id, d) for c in sc.components for d in c.depends_on))
recs = collections.defaultdict(list)
replay = Replay(base)
for r in replay.risk(sample_messages((s for step in fleet.run() for s in step), replay.codec)):
    recs[r["component"]].append({"ts": r["ts"], "risk": r["risk"], "anomaly": r["anomaly"],
        "breach": r["breach"], "contributors": r["contributors"], "source": r["model"]["source"]})
truth = fleet.ground_truth()
breaches = breaches_of(truth, base.horizon_s * 1000)
failing = failing_of(truth)
pickle.dump({"recs": dict(recs), "breaches": breaches, "failing": failing, "truth_start": truth["start_ms"], "truth_end": truth["now_ms"]}, open(f"/tmp/hE/{name}-{seed}.pkl", "wb"))
