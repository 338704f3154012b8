"""Run every scenario of `--scenario all` open loop once; pickle the runs (events, breaches)."""
import pickle, sys, time
from streams.lab.backtest import fleet_run, pmap
from streams.sim.scenarios import scenario_names
from streams.runtime.worker import pipeline_config
from streams.settings import Settings

if __name__ == "__main__":
    names = scenario_names("all", None)
    S = Settings.load(config_path=None)
    base = pipeline_config(S)
    thr = S.risk_threshold
    print(names, thr, flush=True)
    t = time.time()
    runs = pmap(fleet_run, [(n, 42, base, thr, {}) for n in names], int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    print("done", time.time() - t, flush=True)
    pickle.dump(runs, open(sys.argv[1], "wb"))
