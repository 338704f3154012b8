"""capture.py's run (s29) plus, per window and rule metric, what ``season_alarm``'s first-day
ceiling read (s30, issue #15, the first morning): ``python trace.py SEED OUTDIR [SCENARIOS]``
(with ``FOREWARN_PURE_PYTHON=1``: the wrappers patch module functions). Per window, in diag13's
row order, ``m``: metric -> (window mean, the profile's folded top (``hi``'s max: the bins of
today already ended), the bin under way's max (``cur_max``, not read by the ceiling), blind?,
``recent_ceiling`` (None: no cap), the rule's FAIL threshold and sign, the metric's breach p,
its forecast means by horizon). Writes ``OUTDIR/<scenario>.t.pkl`` beside capture's
``.x.pkl`` and diag13's ``.pkl``."""
import math
import os
import pickle
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s29-breach-recall"))
import capture  # noqa: E402,F401  (patches diag13.one)
import diag13  # noqa: E402

from processors import dayrecent, evidence  # noqa: E402

_cap_one = diag13.one


def _top(profile):  # type: ignore[no-untyped-def]
    vals = [v for v in profile.hi.tolist() if v == v]
    return max(vals) if vals else None


def one(name: str, seed: int, cfg: dict, thr: float, out: str) -> dict:
    rows: list = []
    weigh = evidence._weigh

    def weigh_(ev, items, outlooks, statuses, failed, end_ms, config, pending, p_alarm):  # type: ignore[no-untyped-def]
        m = {}
        fc = {}
        for rec in ev.forecasts:
            fc.setdefault(rec.get("metric"), []).append((rec.get("horizon_s"), rec.get("mean")))
        h = config.horizon_s
        for metric, f, o, rules in items:
            p = o.profile
            if p is None:
                continue
            r = rules[0]
            m[metric] = (f.mean, _top(p), p.cur_max if math.isfinite(p.cur_max) else None,
                         p.blind(end_ms, h), dayrecent.recent_ceiling(p, end_ms, f.mean, h),
                         r.fail, r.sign, ev.breach_p.get(metric), fc.get(metric))
        rows.append({"end": end_ms, "m": m})
        weigh(ev, items, outlooks, statuses, failed, end_ms, config, pending, p_alarm)

    evidence._weigh = weigh_  # capture's one() wraps this one again, inside
    r = _cap_one(name, seed, cfg, thr, out)
    assert len(rows) == len(r["events"]), (len(rows), len(r["events"]))
    with open(os.path.join(out, f"{name}.t.pkl"), "wb") as fh:
        pickle.dump(rows, fh)
    return r


diag13.one = one

if __name__ == "__main__":
    diag13.main()
