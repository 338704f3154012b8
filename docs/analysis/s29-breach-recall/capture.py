"""diag13.py's run, keeping what its pickles drop (s29, issue #15, recall):
``python capture.py SEED OUTDIR`` (run with ``FOREWARN_PURE_PYTHON=1``: the wrappers patch
module functions). Per window, in the order of diag13's rows: the raw ``p_new`` (before the
records weighed it), the season cap ``p_alarm`` (``season_alarm``'s first-day mixture), the
alarm's ``p_new`` after both, the judged risk (before ``risk_hold``), the risk before the
``alarm_cascade`` gate and after it; the alarm's combiner score before calibration
(``score``), its calibrator's ``ceiling`` (the calibrated value of a score of 1: no evidence
gives more) and the model's ``labels``. Writes ``OUTDIR/<scenario>.x.pkl`` beside diag13's pickles
(diag13 runs too: its rows must equal the reference run's, checked by ``causes.py``)."""
import os
import pickle
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
import diag13  # noqa: E402

from processors import actsignal, evidence  # noqa: E402
from processors.calibration import RiskLearner  # noqa: E402

_one = diag13.one


def one(name: str, seed: int, cfg: dict, thr: float, out: str) -> dict:
    extra: list = []
    weigh, gated, judge = evidence._weigh, actsignal.gated, actsignal.judge
    cur: dict = {}

    def weigh_(ev, items, outlooks, statuses, failed, end_ms, config, pending, p_alarm):  # type: ignore[no-untyped-def]
        raw = ev.p_new
        weigh(ev, items, outlooks, statuses, failed, end_ms, config, pending, p_alarm)
        cur.update(raw=raw, cap=p_alarm, p_new=ev.p_new, warn=ev.warn, failed=sorted(failed))

    def judge_(model, base, states, config):  # type: ignore[no-untyped-def]
        a = judge(model, base, states, config)
        cur["judged"] = a.risk
        if isinstance(model, RiskLearner):  # the combiner's score and the calibrator's ceiling
            head = model.alarm if config.alarm_learner else None
            comb = head.combiner if head is not None and head.combiner is not None \
                else model.combiner
            cal = head.calibrator if head is not None else model.calibrator
            cur.update(score=comb.score_terms(a.terms), ceiling=cal.score_one(1.0),
                       labels=model.labels)
        return a

    def gated_(risk, last_risk, act_risk, base, states, config, failed=()):  # type: ignore[no-untyped-def]
        r = gated(risk, last_risk, act_risk, base, states, config, failed)
        extra.append({**cur, "held": risk, "last": last_risk, "gated": r[0]})
        cur.clear()
        return r

    evidence._weigh = weigh_
    actsignal.gated = gated_
    actsignal.judge = judge_  # diag13 wraps this one again, outside
    r = _one(name, seed, cfg, thr, out)
    assert len(extra) == len(r["events"]), (len(extra), len(r["events"]))
    with open(os.path.join(out, f"{name}.x.pkl"), "wb") as fh:
        pickle.dump(extra, fh)
    return r


diag13.one = one

if __name__ == "__main__":
    diag13.main()
