"""A/B a model variant on fleet scenarios via monkeypatch (in-process)."""
import sys, json, math
from processors.pipeline import PipelineConfig
from processors import calibration as cal
from streams.lab.backtest import fleet_run

variant = sys.argv[1]; names = sys.argv[2].split(","); seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42

if "failcal" in variant:
    orig_init = cal.RiskLearner.__post_init__
    def post(self):
        orig_init(self)
        self.calibrator_fail = cal.BinCalibrator()
    cal.RiskLearner.__post_init__ = post
    def calib(self, raw, base):
        c = self.calibrator_fail if base.get("fail", 0.0) > 0 else self.calibrator
        return c
    def assess(self, base, states):
        drivers = self.bn.explain(states)
        x = self._evidence(base, self.bn.log_odds_of(drivers))
        c = self.combiner
        raw = c.score_one(x)
        p = calib(self, raw, base).score_one(raw) if self.calibrate else raw
        return cal.Assessment(p, c.terms(x), drivers)
    cal.RiskLearner.assess = assess
    orig_learn = cal.RiskLearner.learn_one
    def learn(self, base, states, y):
        if base.get("fail", 0.0) > 0:
            keep = self.calibrator
            self.calibrator = self.calibrator_fail
            try:
                orig_learn(self, base, states, y)
            finally:
                self.calibrator = keep
        else:
            orig_learn(self, base, states, y)
    cal.RiskLearner.learn_one = learn
if "cap512" in variant:
    from processors import forecast as fc
    orig = fc.SeasonalTrendForecaster.__init__
    def init(self, step_s=60, k=10, block=8, capacity=512, min_acf=0.5, **trend):
        orig(self, step_s=step_s, k=k, block=block, capacity=capacity, min_acf=min_acf, **trend)
    fc.SeasonalTrendForecaster.__init__ = init

if "keepseason" in variant:
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
if "failanom" in variant:
    orig_ev = cal.RiskLearner._evidence
    def _ev(base, log_odds):
        if base.get("fail", 0.0) > 0:
            base = {**base, "anomaly": 0.0}
        return orig_ev(base, log_odds)
    cal.RiskLearner._evidence = staticmethod(_ev)
import re
m = re.search(r"strength(\d+)", variant)
if m:
    cal.BinCalibrator.__dataclass_fields__["strength"].default = float(m.group(1))
    init0 = cal.BinCalibrator.__init__
    def binit(self, bins=10, strength=float(m.group(1)), *a, **k):
        init0(self, bins, strength, *a, **k)
    cal.BinCalibrator.__init__ = binit
base = PipelineConfig()
import pickle, os
os.makedirs(f"/tmp/hE/runs/{variant}", exist_ok=True)
for n in names:
    r = fleet_run(n, seed, base, 1/3, {})
    pickle.dump({k: r[k] for k in ("events", "breaches", "spans", "failing", "figures")}, open(f"/tmp/hE/runs/{variant}/{n}-{seed}.pkl", "wb"))
    f = r["figures"]
    print(variant, n, seed, "br", f["breaches"], "ep", f["episodes"], "true", f["true_episodes"],
          "P %.3f R5 %.3f R1 %.3f Brier %.4f" % (f["precision"], f["recall"]["300"], f["recall"]["60"], f["brier"]), flush=True)
