"""Every scenario's breach figures (as ``forewarn backtest fleet --json``) plus, per alarm
episode, what raised it: ``python diag13.py SEED OUTDIR [SCENARIOS] [KEY=VALUE ...]``.

Runs :func:`streams.lab.backtest.fleet_run` per scenario (2 processes), with the risk
learner's ``assess`` wrapped to keep each window's evidence (base, states, raw score), and
writes ``OUTDIR/figures.json`` (per scenario and the pooled ``all`` row, the backtest's own
arithmetic) and ``OUTDIR/<scenario>.pkl`` (per window: component, ts, risk, evidence,
contributors) for ``episodes.py``. KEY=VALUE are PipelineConfig fields (floats / ints)."""
import json
import os
import pickle
import sys
from dataclasses import replace

from processors import calibration
from streams.lab.backtest import fleet_run, pooled_figures
from streams.lab.jobs import clean_json, pmap
from streams.runtime.worker import pipeline_config  # what the CLI uses
from streams.settings import Settings
from streams.sim.scenarios import scenario_names


def one(name: str, seed: int, cfg: dict, thr: float, out: str) -> dict:
    kept: list = []
    orig = calibration.RiskLearner.assess

    def assess(self, base, states):  # type: ignore[no-untyped-def]
        a = orig(self, base, states)
        if not in_act:  # the alarm's evidence, not act's second assessment (s20)
            kept.append((dict(base), dict(states), a.risk, dict(a.terms)))
        return a

    from processors import actsignal, pipeline
    if hasattr(actsignal, "judge"):  # s22: the alarm's assessment is actsignal.judge's
        judge = actsignal.judge

        def judged(model, base, states, config):  # type: ignore[no-untyped-def]
            a = judge(model, base, states, config)
            kept.append((dict(base), dict(states), a.risk, dict(a.terms)))
            return a
        actsignal.judge = judged
    else:
        calibration.RiskLearner.assess = assess  # type: ignore[method-assign]
    in_act, acted = False, pipeline.acted

    def acted_(*args):  # type: ignore[no-untyped-def]
        nonlocal in_act
        in_act = True
        try:
            return acted(*args)
        finally:
            in_act = False

    pipeline.acted = acted_  # type: ignore[assignment]
    cfg = dict(cfg)
    for k in [k for k in cfg if k.startswith("prior.")]:  # experiments: a combiner prior
        calibration.ONSET_PRIORS[k[6:]] = float(cfg.pop(k))
    if "blind" in cfg:  # round seven: the first-day spread (dayprofile.BLIND; 0: off)
        from processors import dayprofile
        dayprofile.BLIND = float(cfg.pop("blind"))
    if "blind_alarm" in cfg:  # s20: the mixture is the alarm's only (dayprofile.BLIND_ALARM)
        from processors import dayprofile
        dayprofile.BLIND_ALARM = bool(int(cfg.pop("blind_alarm")))
    if "strata" in cfg:  # calibration strata (1: one table, as before s13)
        calibration.CALIBRATION_STRATA = int(cfg.pop("strata"))
    if "explain" in cfg:  # experiments: what a FAIL under way explains away
        keys = str(cfg.pop("explain")).split("+")

        def explained(x):  # type: ignore[no-untyped-def]
            if x.get("fail", 0.0) > 0.0:
                return {**x, **{k: 0.0 for k in keys}}
            return x
        calibration.explained = explained
    if cfg.get("ctx") == "risk":  # experiments: a parent's risk only, not its status
        cfg.pop("ctx")
        from processors.pipeline import Pipeline

        def _context(self, component):  # type: ignore[no-untyped-def]
            parents = [self._states[p] for p in self._parents.get(component, [])
                       if p in self._states]
            return max(p.last_risk for p in parents) if parents else None
        Pipeline._context = _context
    settings = Settings.load()
    base = replace(pipeline_config(settings), **cfg)
    r = fleet_run(name, seed, base, thr, {})
    ev = r["events"]
    assert len(ev) == len(kept), (len(ev), len(kept))
    rows = [(e.component, e.ts_ms, e.risk, e.eta_s, k[0], k[1], k[3])
            for e, k in zip(ev, kept, strict=True)]
    with open(os.path.join(out, f"{name}.pkl"), "wb") as fh:
        pickle.dump({"rows": rows, "breaches": r["breaches"], "failing": r["failing"],
                     "spans": r["spans"], "figures": r["figures"],
                     "alarm": [e.alarm for e in ev]}, fh)  # s29: the alarm state, if any
    return {"scenario": name, "figures": r["figures"], "events": ev, "breaches": r["breaches"],
            "spans": r["spans"], "failing": r["failing"], "horizon_s": base.horizon_s}


def main() -> None:
    seed, out = int(sys.argv[1]), sys.argv[2]
    names = scenario_names(sys.argv[3] if len(sys.argv) > 3 and "=" not in sys.argv[3]
                           else "all")
    cfg = {}
    for kv in sys.argv[3:]:
        if "=" in kv:
            k, v = kv.split("=", 1)
            cfg[k] = v if not v[:1].isdigit() else float(v) if "." in v else int(v)
    os.makedirs(out, exist_ok=True)
    thr = Settings.load().risk_threshold
    jobs = int(os.environ.get("DIAG_JOBS", "2"))
    runs = pmap(one, [(n, seed, cfg, thr, out) for n in names], jobs)
    figs = {r["scenario"]: r["figures"] for r in runs}
    figs["all"] = pooled_figures(runs, thr, runs[0]["horizon_s"])
    with open(os.path.join(out, "figures.json"), "w") as fh:
        json.dump(clean_json({"seed": seed, "config": cfg, "scenarios": figs}), fh)
    a = figs["all"]
    print(f"all: episodes {a['episodes']} precision {a['precision']:.3f} "
          f"recall@5m {a['recall']['300']:.3f} Brier {a['brier']:.4f}")
    if "risk_crossing" in a:  # s29: the pages from the alarm state, the old count beside
        o = a["risk_crossing"]
        print(f"     (risk crossing: episodes {o['episodes']} precision {o['precision']:.3f}; "
              f"windows firing {a['alarm_window_share']:.4f}, crossing {o['window_share']:.4f})")


if __name__ == "__main__":
    main()
