"""diag13.py's run with the first-morning form ``eta2`` patched in (s30, issue #15; a screen,
not built): ``python screen.py SEED OUTDIR SCENARIO`` (``FOREWARN_PURE_PYTHON=1``).

``eta2``: where a metric's day profile is blind over the horizon (its first day) and
``season_alarm``'s ceiling does not bind (``recent_ceiling`` None: a rise to a level not seen
today), an upward rule's breach estimate whose crossing ETA is beyond half the horizon gives the
alarm's probability 0 (``BreachEstimate.alarm``); the forecaster's probability, ``act``, the
records and the learning are untouched. Half the horizon set a priori, the only value run."""
import dataclasses
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
import diag13  # noqa: E402

from processors import dayrecent, outlook  # noqa: E402
from processors.batch import outlook as batch_outlook  # noqa: E402

_one = diag13.one
_fw = outlook.forecast_windows


def forecast_windows(windows, grid_s, horizons_s, recent=False, alarm=False):  # type: ignore[no-untyped-def]
    out = _fw(windows, grid_s, horizons_s, recent, alarm)
    if not alarm:
        return out
    h = max(grid_s, default=0)
    for (items, origin), a in zip(windows, out, strict=True):
        for metric, f, o, rules in items:
            p = o.profile
            if p is None or any(r.sign <= 0 for r in rules) or not p.blind(origin, h):
                continue
            if dayrecent.recent_ceiling(p, origin, f.mean, h) is not None:
                continue
            ests = a.estimates.get(metric)
            if ests:
                a.estimates[metric] = [
                    e if e is None or e.eta_s <= h / 2 else dataclasses.replace(e, alarm=0.0)
                    for e in ests]
    return out


def one(name: str, seed: int, cfg: dict, thr: float, out: str) -> dict:
    outlook.forecast_windows = forecast_windows
    batch_outlook.forecast_windows = forecast_windows
    return _one(name, seed, cfg, thr, out)


diag13.one = one

if __name__ == "__main__":
    diag13.main()
