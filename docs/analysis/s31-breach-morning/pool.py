"""The pooled ``all`` figures of a diag13 run made of two directories' scenarios (s31, #15):
``python pool.py BASE OPT [OUT]``.

``morning_eta`` can act only where a metric's day profile has 6 h of folded bins: on the
simulator's scenarios (all from 00:00 UTC) only ``mixed``, ``fleet``, ``daily_peaks`` and
``weekly`` last longer. The option's run is those (and ``disk_filling``, the longest short one,
as a check); every other scenario is taken from the default's run ``BASE``. Each scenario's
events are rebuilt from its pickle (component, ts, risk, ETA, the alarm state) and pooled by
``streams.lab.backtest.pooled_figures``, the arithmetic diag13 uses. Prints the pooled
figures and, for every scenario in both, whether OPT's rows equal BASE's; ``OUT``: writes
``OUT/figures.json`` (diag13's shape: ``scenarios.all`` and each scenario's own). With
``OPT`` = ``BASE`` the pooled figures must equal ``BASE/figures.json``'s ``all``."""
import glob
import json
import os
import pickle
import sys
from types import SimpleNamespace

from streams.lab.backtest import pooled_figures
from streams.lab.jobs import clean_json
from streams.runtime.worker import pipeline_config
from streams.settings import Settings
from streams.sim.scenarios import scenario_names


def runs_of(base: str, opt: str) -> tuple[list[dict], dict, list[str]]:
    have = {os.path.basename(p)[:-4] for p in glob.glob(os.path.join(base, "*.pkl"))}
    names = [n for n in scenario_names("all") if n in have]  # diag13's order: the same sums
    runs, figs, same = [], {}, []
    for n in names:
        src = opt if os.path.exists(os.path.join(opt, n + ".pkl")) else base
        d = pickle.load(open(os.path.join(src, n + ".pkl"), "rb"))
        if src == opt and opt != base:
            b = pickle.load(open(os.path.join(base, n + ".pkl"), "rb"))
            eq = b["rows"] == d["rows"] and b["alarm"] == d["alarm"]
            same.append(f"{n}: rows {'EQUAL' if eq else 'differ'} to the default's")
        ev = [SimpleNamespace(component=r[0], ts_ms=r[1], risk=r[2], eta_s=r[3], alarm=a)
              for r, a in zip(d["rows"], d["alarm"], strict=True)]
        runs.append({"scenario": n, "events": ev, "breaches": d["breaches"],
                     "spans": d["spans"], "failing": d["failing"]})
        figs[n] = d["figures"]
    return runs, figs, same


def main(base: str, opt: str, out: str | None = None) -> None:
    settings = Settings.load()
    runs, figs, same = runs_of(base, opt)
    figs["all"] = pooled_figures(runs, settings.risk_threshold,
                                 pipeline_config(settings).horizon_s)
    a = figs["all"]
    print(f"{opt}: {len(runs)} scenarios; all: pages {a['episodes']} true "
          f"{a['true_episodes']} P {a['precision']:.4f} R@5m {a['recall']['300']:.4f} "
          f"Brier {a['brier']:.6f} lead {a['lead_time_s']} false/comp-day "
          f"{a['false_alarms_per_component_day']:.4f}")
    for s in same:
        print("  " + s)
    if opt == base:
        ref = json.load(open(os.path.join(base, "figures.json")))["scenarios"]["all"]
        print("pooled from pickles == figures.json all:",
              json.dumps(clean_json(a), sort_keys=True) == json.dumps(ref, sort_keys=True))
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "figures.json"), "w") as fh:
            json.dump(clean_json({"base": base, "opt": opt, "scenarios": figs}), fh)


if __name__ == "__main__":
    main(*sys.argv[1:4])
