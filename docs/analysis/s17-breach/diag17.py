"""``diag13.py`` with this round's experiment switched on in each worker:
``python diag17.py SEED OUTDIR [SCENARIOS] [KEY=VALUE ...]``, the same outputs.

``trust=A`` (round eight, prototype of ``PipelineConfig.forecast_trust``): each rule metric's
breach forecast is scaled by its record, ``(k + A) / (n + A)``, ``n`` the forecast episodes
(the metric's breach probability at ``topen`` or more, default 0.5, while out of FAIL) that
have resolved, ``k`` those the metric's own FAIL followed within the horizon."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))

import diag13  # noqa: E402

from streams.lab.jobs import pmap  # noqa: E402


def one(name: str, seed: int, cfg: dict, thr: float, out: str) -> dict:
    cfg = dict(cfg)
    if "trust" in cfg or "wtrust" in cfg:
        patch(float(cfg.pop("trust", -1)), float(cfg.pop("topen", 0.5)),
              float(cfg.pop("wtrust", -1)))
    return diag13.one(name, seed, cfg, thr, out)


def patch(a: float, topen: float, aw: float) -> None:
    from processors import calibration, pipeline
    from processors.health import Status
    orig = pipeline.window_evidence
    recs: dict[int, dict[str, list[float]]] = {}
    warn_scale = [1.0]
    if aw > 0:
        orig_assess = calibration.RiskLearner.assess

        def assess(self, base, states):  # type: ignore[no-untyped-def]
            if base.get("warn", 0.0) > 0.0:
                base["warn"] = warn_scale[0]
            return orig_assess(self, base, states)
        calibration.RiskLearner.assess = assess

    def we(window, outlooks, rules_by_metric, statuses, failed, grid_s, config, *more):  # type: ignore[no-untyped-def]
        ev = orig(window, outlooks, rules_by_metric, statuses, failed, grid_s, config, *more)
        ts, h = window.end_ms, config.horizon_s * 1000
        rec = recs.setdefault(id(outlooks), {})
        p_new = 0.0
        warn_scale[0] = -1.0
        for metric, rules in rules_by_metric.items():
            if aw <= 0 or metric not in ev.states:
                continue
            r = rec.setdefault("warn:" + metric, [0.0, 0.0, -1.0])
            if r[2] >= 0 and (metric in failed or ts - r[2] > h):
                r[0] += 1
                r[1] += metric in failed
                r[2] = -1.0
            at = max((statuses.get(x.name, 0) for x in rules), default=0)
            if at == Status.WARN and metric in failed:
                warn_scale[0] = 1.0  # after a FAIL: no record to read
            if metric in failed or at != Status.WARN:
                continue
            if r[2] < 0:
                r[2] = ts
            warn_scale[0] = max(warn_scale[0], (r[1] + aw) / (r[0] + aw))
        if warn_scale[0] < 0:
            warn_scale[0] = 1.0
        if a <= 0:
            return ev
        for metric, p in ev.breach_p.items():
            r = rec.setdefault(metric, [0.0, 0.0, -1.0])
            if r[2] >= 0 and (metric in failed or ts - r[2] > h):
                r[0] += 1
                r[1] += metric in failed
                r[2] = -1.0
            if metric in failed:
                continue
            if r[2] < 0 and p >= topen:
                r[2] = ts
            p_new = max(p_new, p * (r[1] + a) / (r[0] + a))
        ev.p_new = p_new
        return ev
    pipeline.window_evidence = we


def main() -> None:
    diag13.one = one  # pmap pickles diag13.one by name: route it here
    diag13.pmap = lambda f, args, n: pmap(one, args, n)
    diag13.main()


if __name__ == "__main__":
    main()
