"""What-if (s30, issue #15, false pages): a page opens only once the risk has stood at or over
the alarm point for K consecutive windows: ``python stand.py DIR K [K ...]`` (``K=1`` is the
default's alarm state and must equal the pickled ``alarm`` on every window; ``fK``: K applies
only where the opening window's largest log-odds term is the forecast's, ``breach``; ``w``:
K=1, but in the component's first 24 h a page whose opening window's largest term is the
forecast's opens only in a window with some rule metric at WARN or worse; ``nf``: K=1, but no
new page opens in a window with the risk's ``fail`` evidence, a rule FAIL under way).

Otherwise the alarm state of s29 (``alarm_hold_s`` = the horizon, ``open``: held for the
horizon after the risk was last at the point, in a rule FAIL until it ends). Counted as the
scorer does (pages: runs of the state; only windows with risk >= 1/3 and the state firing
make a page true or predict a breach). Lead: per breach caught 5 min ahead, ``b`` minus the
first such window in ``[b - h, b - 5 min]``; its sum over the breaches caught by both K=1 and
K is printed as the minutes lost."""
import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s13-breach"))
from episodes import THR, H, L, load  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402


def top(terms: dict) -> str:
    pos = {t: v for t, v in terms.items() if v > 0.0}
    return max(pos, key=lambda t: pos[t]) if pos else "-"


def warned(codes: dict) -> bool:
    return any(v // 3 >= 2 for m, v in codes.items() if m != "context")


def state(rs: list, ts: np.ndarray, risk: np.ndarray, k: int, forecast_only: bool,
          first_day: int = -1, nofail: bool = False) -> np.ndarray:
    firing = np.zeros(risk.size, dtype=bool)
    on, last_hi, run, need = False, -10**15, 0, k
    for i in range(risk.size):
        hot = risk[i] >= THR
        run = run + 1 if hot else 0
        if hot:
            last_hi = ts[i]
        if run == 1 and forecast_only:  # the run's first window: a forecast's?
            need = k if top(rs[i][6]) == "breach" else 1
        keep = rs[i][4].get("fail", 0.0) > 0.0 or ts[i] - last_hi < H
        opens = hot and run >= need
        if opens and not on and ts[i] < first_day and top(rs[i][6]) == "breach":
            opens = warned(rs[i][5])  # form w: a first-day forecast page needs a WARN
        if opens and not on and nofail and rs[i][4].get("fail", 0.0) > 0.0:
            opens = False  # form nf: no new page inside a rule FAIL
        on = opens or (on and keep)
        firing[i] = on
    return firing


def run(d: str, form: str) -> tuple[collections.Counter, dict]:
    k, fo = (1, False) if form in ("w", "nf") else (int(form.lstrip("f")), form.startswith("f"))
    c: collections.Counter = collections.Counter()
    leads: dict = {}
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        if p.endswith(".x.pkl"):
            continue
        dd, by, br = load(p)
        alarm = dd["alarm"]
        pos = collections.defaultdict(list)
        for i, r in enumerate(dd["rows"]):
            pos[r[0]].append(i)
        for comp, rs in by.items():
            ts = np.array([r[1] for r in rs], dtype=np.int64)
            risk = np.array([r[2] for r in rs])
            b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
            fol = np.searchsorted(b, ts + H, "right") > np.searchsorted(b, ts, "right")
            day = dd["spans"][comp][0] + 86_400_000 if form == "w" else -1
            firing = state(rs, ts, risk, k, fo, day, form == "nf")
            if form == "1":
                assert all(bool(alarm[i]) == f for i, f in zip(pos[comp], firing, strict=True))
            hot = risk >= THR
            for a, z in _episodes(firing):
                if (fol[a:z + 1] & hot[a:z + 1]).any():
                    c["T"] += 1
                elif ts[a] + H <= dd["spans"][comp][1]:
                    c["F"] += 1
            ats = ts[firing & hot]
            for x in b.tolist():
                lo = np.searchsorted(ats, x - H, "left")
                hi = np.searchsorted(ats, x - L, "right")
                if hi > lo:
                    c["hit"] += 1
                    leads[(p, comp, x)] = (x - ats[lo]) / 6e4
            c["breaches"] += b.size
            c["windows"] += risk.size
            c["firing"] += int(firing.sum())
    return c, leads


def main(d: str, forms: list[str]) -> None:
    base, lead0 = run(d, "1")
    for form in ["1"] + forms:
        c, lead = (base, lead0) if form == "1" else run(d, form)
        both = [x for x in lead if x in lead0]
        lost = sum(lead0[x] - lead[x] for x in both)
        late = sum(lead0[x] - lead[x] > 0 for x in both)
        med = float(np.median(list(lead.values()))) if lead else 0.0
        print(f"K {form:3} pages {c['T'] + c['F']:4} false {c['F']:3} "
              f"P {c['T'] / max(c['T'] + c['F'], 1):.4f} R@5m {c['hit'] / c['breaches']:.4f} "
              f"({c['hit']}/{c['breaches']}) lead median {med:.1f} min; later on {late} of "
              f"{len(both)} caught by both, {lost:.0f} min in all; firing "
              f"{c['firing'] / c['windows']:.4f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
