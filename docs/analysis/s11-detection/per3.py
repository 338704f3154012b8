import sys
from dataclasses import replace
from processors import forecast as fc
cap = int(sys.argv[2])
orig = fc.SeasonalTrendForecaster.__init__
def init(self, step_s=60, k=10, block=8, capacity=cap, min_acf=0.5, **trend):
    orig(self, step_s=step_s, k=k, block=block, capacity=capacity, min_acf=min_acf, **trend)
fc.SeasonalTrendForecaster.__init__ = init
from processors import drift as dr
def _restart(self):
    self.drifts += 1
    old = self.forecaster
    self.forecaster = dr.make_forecaster(self.kind, self.step_s, self.k)
    h = getattr(old, "history", None)
    if h is not None:
        self.forecaster.history = h
        self.forecaster.n = old.n
dr.MetricOutlook._restart = _restart
from processors.pipeline import PipelineConfig
from streams.lab.replay import Replay, sample_messages
from streams.sim.simulator import Fleet, scenario
sc = scenario(sys.argv[1], seed=42); fleet = Fleet(sc)
base = replace(PipelineConfig(), dependencies=tuple((c.id, d) for c in sc.components for d in c.depends_on))
replay = Replay(base)
periods = {}
for _ in replay.risk(sample_messages((s for step in fleet.run() for s in step), replay.codec)):
    continue  # run the replay to the end: the periods are read afterwards
p = replay.handler.pipeline
for comp, st in p._states.items():
    print(comp, {m: (o.forecaster.period_points if hasattr(o.forecaster, "period_points") else None) for m, o in list(st.outlooks.items())[:6]}, {m: o.drifts for m, o in st.outlooks.items()})
