"""Issue #15, session 13 (hN): where the low-FP profile's false positives come from held out,
and cheap post-processing variants of the shipped novelty detector scored on the same
leave-one-category-out protocol (streams.lab.cv.loco), default parameters only.

    python docs/analysis/s13-nab/lowfp.py ../shared/data/nab WHICH [out.json]

WHICH: round1, scale, tiebreak, published or order7 (the variants of docs/modelling.md, round five).

Per fold (held-out category), the threshold chosen on the other four under each profile, then
per held-out file: FP rows, of which alarm onsets (raw >= 0.75), rows in a recovery after an
alarm (suppressed score below raw), and the rest (raw < 0.75 and not suppressed).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from typing import Any

import numpy as np

from processors.univariate import ContextNovelty, Suppressor
from streams.lab.cv import NabCorpus, category, loco
from streams.lab.nabdata import load_corpus, load_windows
from streams.lab.scoring.nab import _file_score, rest_rows


def raw_scores(values: dict[str, np.ndarray], **kw: Any) -> dict[str, np.ndarray]:
    out = {}
    for n, v in values.items():
        m = ContextNovelty(**kw)
        out[n] = np.array([m.step(float(x)) for x in v])
    return out


def linear(r: np.ndarray, rest: int, alarm: float = 0.75) -> np.ndarray:
    sup = Suppressor(rest, alarm)
    return np.array([sup.step(float(x)) for x in r])


def hold(r: np.ndarray, rest: int, alarm: float = 0.75) -> np.ndarray:
    """CAD OSE: 0 while an alarm (raw >= alarm) was seen in the last ``rest`` rows."""
    out = np.empty_like(r)
    last = -10**9
    for i, x in enumerate(r):
        out[i] = 0.0 if i - last <= rest else x
        if x >= alarm and i - last > rest:
            last = i
    return out


def recent_alarms(s: np.ndarray, span: int, alarm: float = 0.75, mode: str = "window"
                  ) -> np.ndarray:
    """Each row's (suppressed) score over ``1 + k``: ``k`` the alarms (score >= ``alarm``) of
    this series in the previous ``span`` rows ("window") or their rate per ``span`` rows since
    the first alarm-capable row ("rate"). A per-series scale: a series that keeps alarming
    is believed less (HTM's likelihood idea, counted in alarms)."""
    out = np.empty_like(s)
    times: list[int] = []
    first = None
    for i, x in enumerate(s):
        if mode == "window":
            while times and i - times[0] > span:
                times.pop(0)
            k = float(len(times))
        else:
            k = 0.0 if first is None or i == first else len(times) * span / (i - first)
        out[i] = x / (1.0 + k)
        if x >= alarm:
            times.append(i)
        if first is None and x > 0:
            first = i
    return out


def tiebreak(s: np.ndarray, warm: int, probation: int | None, alarm: float = 0.75
             ) -> np.ndarray:
    """Each row's score times ``1 - r``, ``r`` this series' alarm rate (rows scoring >=
    ``alarm`` per row since ``warm``): over the probation only (``probation`` given; 1 until it
    ends) or running (causal, every row so far). A noisy series' onsets score a little lower
    than a quiet one's, so a higher threshold drops them first; no constant."""
    out = np.empty_like(s)
    alarms = 0
    r = 0.0
    for i, x in enumerate(s):
        if i >= warm:
            if probation is None:
                r = alarms / (i - warm) if i > warm else 0.0
            elif i == probation:
                r = alarms / max(1, probation - warm)
        out[i] = x * (1.0 - r)
        if i >= warm and x >= alarm and (probation is None or i < probation):
            alarms += 1
    return out


def variants(raw: dict[str, np.ndarray], which: str) -> dict[str, Any]:
    """name -> scores of every series; ``which`` = "round1" (suppression variants) or
    "scale" (per-series alarm-count scales)."""
    from streams.lab.scoring.nab import probation_rows

    base = {n: linear(r, rest_rows(r.size)) for n, r in raw.items()}
    v: dict[str, Any] = {"shipped (linear recovery, alarm 0.75)": base}
    if which == "round1":
        # the suppressor's alarm at 0.5 (a majority of new contexts) instead of CAD OSE's 0.75
        v["linear recovery, alarm 0.5"] = {n: linear(r, rest_rows(r.size), 0.5)
                                           for n, r in raw.items()}
        v["hold (CAD OSE) alarm 0.5"] = {n: hold(r, rest_rows(r.size), 0.5)
                                         for n, r in raw.items()}
        v["linear, rest = probation"] = {n: linear(r, 5 * rest_rows(r.size))
                                         for n, r in raw.items()}
    elif which == "tiebreak":
        v["x (1 - alarm rate in the probation)"] = {
            n: tiebreak(b, 250, max(251, probation_rows(b.size))) for n, b in base.items()}
        v["x (1 - running alarm rate)"] = {n: tiebreak(b, 250, None) for n, b in base.items()}
    else:
        v["/(1+alarms in last probation)"] = {n: recent_alarms(s, probation_rows(s.size))
                                              for n, s in base.items()}
        v["/(1+alarm rate per probation)"] = {
            n: recent_alarms(s, probation_rows(s.size), mode="rate") for n, s in base.items()}
    return v


def fp_breakdown(corpus: NabCorpus, raw: dict[str, np.ndarray], scores: dict[str, np.ndarray],
                 profile: str, fold_thr: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    prof = corpus.profiles[profile]
    for n in corpus.names:
        t = fold_thr[category(n)]
        prep = replace(corpus._prep[profile][n], scores=scores[n])
        fs = _file_score(prep, t, prof)
        det = scores[n] >= t
        det[: prep.probation] = False
        inside = np.zeros(det.size, bool)
        for a, b in prep.windows:
            inside[a : b + 1] = True
        fp = det & ~inside
        onset = fp & (raw[n] >= 0.75)
        recov = fp & ~onset & (scores[n] < raw[n] - 1e-12)
        rows.append({"file": n, "thr": t, "raw": fs.raw, "tp": fs.tp, "fn": fs.fn,
                     "fp": int(fp.sum()), "onset": int(onset.sum()),
                     "recovery": int(recov.sum()), "other": int((fp & ~onset & ~recov).sum()),
                     "fp_cost": float(np.sum(prep.sweep[fp]))})
    return rows


def main(data: str, which: str, out: str | None) -> None:
    series = load_corpus(data)
    corpus = NabCorpus({n: s.ts_ms for n, s in series.items()}, load_windows(data))
    vals = {n: series[n].values for n in corpus.names}
    raw = raw_scores(vals)
    if which in ("published", "order7"):
        # NAB's HTM harness pads the encoder range by 0.2 of it (rangePadding); HTM's red
        # (1e-5) as the seasonal mapping's top; the rest the shipped values
        table = {"shipped": {n: linear(r, rest_rows(r.size)) for n, r in raw.items()}}
        for name, kw in (("margin 0.2 (HTM harness padding)", {"margin": 0.2}),
                         ("margin 0.2, s_hi 5 (HTM red)", {"margin": 0.2, "s_hi": 5.0})):
            if which != "published":
                break
            r2 = raw_scores(vals, **kw)
            table[name] = {n: linear(r, rest_rows(r.size)) for n, r in r2.items()}
        if which == "order7":
            # CAD OSE's maxLeftSemiContextsLenght = 7: 8 contexts per row, a finer raw score
            for name, kw in (("order 7 (CAD OSE)", {"order": 7}),
                             ("order 7, 16-bit context memory", {"order": 7, "bits": 16})):
                r2 = raw_scores(vals, **kw)
                table[name] = {n: linear(r, rest_rows(r.size)) for n, r in r2.items()}
    else:
        table = variants(raw, which)
    names = list(table)
    res = loco(corpus, [{"v": k} for k in names], lambda c: table[c["v"]])
    report: dict[str, Any] = {}
    for prof, r in res.items():
        print(f"{prof}: all-in {r.all_in:.1f} (best of {r.grid_size} variants, "
              f"{r.all_in_config['v']})")
    for k in names:
        one = loco(corpus, [{"v": k}], lambda c: table[c["v"]])
        report[k] = {p: {"all_in": r.all_in, "mean": r.mean, "sd": r.spread,
                         "pooled": r.pooled,
                         "folds": {f.held_out: [f.score, f.threshold, f.tp, f.fp, f.fn]
                                   for f in r.folds}} for p, r in one.items()}
        print(k)
        for p, r in one.items():
            print(f"  {p:20s} all-in {r.all_in:5.1f}  LOCO {r.mean:5.1f} ± {r.spread:4.1f}  "
                  f"pooled {r.pooled:5.1f}  folds " + " ".join(
                      f"{f.held_out[:9]}={f.score:.1f}/t{f.threshold:.3f}/fp{f.fp}"
                      for f in r.folds))
        if k == names[0]:
            lf = one["reward_low_FP_rate"]
            thr = {f.held_out: f.threshold for f in lf.folds}
            bd = fp_breakdown(corpus, raw, table[k], "reward_low_FP_rate", thr)
            report["fp_low_FP_shipped"] = bd
            bd.sort(key=lambda d: d["fp_cost"])
            print("  low-FP held out, files by FP cost (threshold of their fold):")
            for d in bd[:15]:
                print(f"    {d['file']:60s} thr {d['thr']:.3f} FP {d['fp']:3d} (onset "
                      f"{d['onset']}, recovery {d['recovery']}, other {d['other']}) cost "
                      f"{d['fp_cost']:.2f} TP {d['tp']} FN {d['fn']}")
            for c in corpus.categories:
                ds = [d for d in bd if category(d["file"]) == c]
                print(f"    {c:22s} FP {sum(d['fp'] for d in ds):3d} onset "
                      f"{sum(d['onset'] for d in ds)} recovery {sum(d['recovery'] for d in ds)}"
                      f" other {sum(d['other'] for d in ds)} cost "
                      f"{sum(d['fp_cost'] for d in ds):.2f}")
    if out:
        with open(out, "w") as fh:
            json.dump(report, fh, indent=1, default=str)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
