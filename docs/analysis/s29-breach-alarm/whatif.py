"""What-ifs of an alarm state apart from the emitted risk (s29, issue #15):
``python whatif.py DIR [FORM ...]`` (DIR: a ``docs/analysis/s13-breach/diag13.py`` run).

A FORM is ``WHERE:HOLD_MIN:RELEASE``: once firing (risk >= 1/3), the alarm keeps firing until
the risk has stayed below RELEASE for HOLD_MIN minutes (Prometheus' ``keep_firing_for``;
Alertmanager keeps one notification per firing alert); WHERE ``fail`` holds only while the
window is in a rule FAIL (the risk's ``fail`` evidence), ``any`` everywhere, ``open``: in a
FAIL for as long as it lasts, elsewhere for the hold. The risk is not
touched: the Brier is the default's. Three counts, pooled and per scenario:

* ``risk``: the old count, episodes and recall from the risk crossing 1/3;
* ``alarm``: the scorer's definitions applied to the alarm state (a held window is an alarm:
  it can make an episode true and predict a breach);
* ``strict``: episodes are the alarm state's runs (held windows merge crossings) but only
  windows with risk >= 1/3 can make an episode true or predict a breach (recall = the old)."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, L, load  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402


def state(rs: list, ts: np.ndarray, risk: np.ndarray, form: str) -> np.ndarray:
    where, hold_min, release = form.split(":")
    hold, rel = float(hold_min) * 60_000, float(release)
    firing = np.zeros(risk.size, dtype=bool)
    on, last_hi = False, 0
    for i in range(risk.size):
        if risk[i] >= rel:
            last_hi = ts[i]
        fail = rs[i][4].get("fail", 0.0) > 0.0
        quiet = ts[i] - last_hi >= hold
        if where == "fail":
            keep = fail and not quiet
        elif where == "any":
            keep = not quiet
        else:  # "open": in a FAIL until it ends, elsewhere for the hold
            keep = fail or not quiet
        on = risk[i] >= THR or (on and keep)
        firing[i] = on
    return firing


def count(c: collections.Counter, tag: str, alarm: np.ndarray, hot: np.ndarray,
          ts: np.ndarray, fol: np.ndarray, b: np.ndarray, end: int) -> None:
    for a, z in _episodes(alarm):
        if (fol[a:z + 1] & hot[a:z + 1]).any():
            c[tag + "T"] += 1
        elif ts[a] + H <= end:
            c[tag + "F"] += 1
    ats = ts[alarm & hot]
    for x in b.tolist():
        c[tag + "hit"] += int(np.searchsorted(ats, x - L, "right")
                              > np.searchsorted(ats, x - H, "left"))


def run(d: str, form: str) -> dict:
    out: dict = collections.defaultdict(collections.Counter)
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        name = os.path.basename(p)[:-4]
        dd, by, br = load(p)
        c = out[name]
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs])
            risk = np.array([r[2] for r in rs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            end = dd["spans"][comp][1]
            crossing = risk >= THR
            firing = state(rs, ts, risk, form)
            everywhere = np.ones(risk.size, dtype=bool)
            count(c, "risk", crossing, everywhere, ts, fol, b, end)
            count(c, "alarm", firing, everywhere, ts, fol, b, end)
            count(c, "strict", firing, crossing, ts, fol, b, end)
            c["breaches"] += b.size
            c["held"] += int((firing & ~crossing).sum())
            c["crossing"] += int(crossing.sum())
            c["windows"] += risk.size
    return out


def line(c: collections.Counter, tag: str) -> str:
    t, f = c[tag + "T"], c[tag + "F"]
    return (f"{tag} {t + f:4} ep {f:4} F P {t / max(t + f, 1):.3f} "
            f"R {c[tag + 'hit'] / max(c['breaches'], 1):.3f}")


def main(d: str, forms: list[str]) -> None:
    for form in forms:
        res = run(d, form)
        tot: collections.Counter = collections.Counter()
        for c in res.values():
            tot.update(c)
        print(f"{form:12} | {line(tot, 'risk')} | {line(tot, 'alarm')} | {line(tot, 'strict')}"
              f" | crossing {tot['crossing'] / max(tot['windows'], 1):.4f}"
              f" held {tot['held'] / max(tot['windows'], 1):.4f}")
        if os.environ.get("PER"):
            for name, c in sorted(res.items()):
                if (c["riskT"], c["riskF"]) != (c["strictT"], c["strictF"]):
                    print(f"   {name:24} | {line(c, 'risk')} | {line(c, 'alarm')} | "
                          f"{line(c, 'strict')}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["fail:15:0.3333333333333333"])
