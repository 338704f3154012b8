"""``season_recent``'s ceiling read by the alarm only (s27, issue #15; exploration, not an
option): ``python alarmonly.py SEED OUTDIR [SCENARIOS]`` writes what ``diag13.py`` writes.

Round eleven's alarm-only path (``dayprofile.BLIND_ALARM``: a breach estimate carries the
alarm's probability beside the forecaster's, and only the alarm's ``breach`` evidence reads
it) with the first-day mixture swapped, in each worker, for the day so far's ceiling
(:func:`processors.dayrecent.recent_ceiling`): an item whose profile is blind and whose window
mean is under the day's highest (+ 5 %) has its upward rules' forecast means capped there for
the alarm's probability; the estimates, records, learning, patterns (no ``growth`` ->
``periodic``) and ``act`` stay the forecaster's.

Superseded by the option ``season_alarm`` (hG, s27: processors/firstday.py; run
``diag13.py SEED DIR all season_alarm=1``): the hooks this wrapper patched moved there, so it
refuses to run on a tree that has the option (its patch would do nothing)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
import diag13  # noqa: E402


def _patch() -> None:
    from processors import dayprofile, dayrecent, outlook
    if not hasattr(outlook, "_blind"):
        raise SystemExit("this tree has season_alarm: run diag13.py ... season_alarm=1")
    dayprofile.BLIND_ALARM = True

    def blind(items, origins, horizon_s):  # type: ignore[no-untyped-def]
        out = {}
        for i, (_, f, o, rules) in enumerate(items):
            if o.profile is None or any(r.sign <= 0 for r in rules):
                continue
            top = dayrecent.recent_ceiling(o.profile, origins[i], f.mean, horizon_s)
            if top is not None:
                out[i] = top
        return out

    def mixture(m, s, levels):  # type: ignore[no-untyped-def]
        level = np.asarray(levels, dtype=np.float64)[:, None]
        return np.where(np.isnan(level), m, np.minimum(m, level)), s

    def widened(pts, level):  # type: ignore[no-untyped-def]
        return pts if level is None else [p._replace(mean=min(p.mean, level)) for p in pts]

    outlook._blind, outlook._mixture, outlook._widened = blind, mixture, widened


def one(name: str, seed: int, cfg: dict, thr: float, out: str) -> dict:
    _patch()
    return diag13.one(name, seed, cfg, thr, out)


if __name__ == "__main__":
    diag13.one = one  # the workers import this module (spawn) and call its ``one``
    diag13.main()
