"""The default's missed windows (``hold``, threshold only; NAB's protocol, every fold's threshold
chosen on the other categories: 0.525, realKnownCause's 0.531, both profiles) and, for each,
what the series does there, the raw score's kinds inside the window (1, 0.75, 0.5, 0.25: the
share of the four contexts never seen; other values seasonal), why the suppressor keeps it
under the threshold, and what three causal signals see there (``docs/modelling.md``, "NAB
round ten (s21)", "The misses"). Labels are read only to place the windows; nothing here is
tuned. ``PYTHONPATH=. python docs/analysis/s21-nab/misses.py`` (~1 min with
``NAB_RAW_CACHE``); ``--at 0.525``: one threshold for every category; ``--corpus``: each
signal alone on all 31 files; ``--marginal``: each signal beside the default; ``--origins``:
when the missed windows' contexts were first seen.

Signals (all causal: row ``t`` reads rows ``<= t`` only), each reported as its maximum in the
window and the share of the file's scored rows outside every window (after probation) that
reach that maximum (``fp share``: 0 = the window's peak is unique in the file, a signal that
could catch it alone; near 1 = every quiet stretch does as much):

* ``lik``: HTM's anomaly likelihood (:class:`processors.likelihood.AnomalyLikelihood`, HTM's
  parameters) over the same raw novelty;
* ``z``: the value's distance from the median of the last ``rest`` values in units of the
  median absolute deviation of the values before them (a robust level/spike test);
* ``re``: relative entropy (the statistic of NAB's "Relative Entropy" detector, Wang et al.):
  ``2 W KL(P_w || Q)``, the histogram of the last ``W`` = 52 values against that of every value
  before them (10 equal bins over the warm range, values outside it in the end bins, add-half
  smoothing). The published detector alarms when it passes the chi-square 99 % point (21.7,
  9 degrees of freedom) and the window's distribution is not one it has kept as normal; here
  the statistic alone, against all the history.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, suppress  # noqa: E402

from processors.likelihood import AnomalyLikelihood  # noqa: E402
from processors.univariate import ContextNovelty  # noqa: E402
from streams.lab.scoring.nab import rest_rows  # noqa: E402

THRESHOLD = {"realKnownCause": 0.531}  # the folds' thresholds (both profiles); others 0.525
W, BINS, WARM = 52, 10, 250


def likelihood(raw: np.ndarray) -> np.ndarray:
    lik = AnomalyLikelihood()
    return np.array([lik.step(float(x)) for x in raw])


def robust_z(v: np.ndarray, rest: int) -> np.ndarray:
    """``|x_t - median(x[t-rest:t])| / MAD(x[:t-rest])`` (MAD of everything older, floored
    at 1e-9 of the range seen); 0 before ``2 rest`` rows."""
    out = np.zeros(v.size)
    for t in range(2 * rest, v.size):
        old = v[: t - rest]
        mad = float(np.median(np.abs(old - np.median(old))))
        mad = max(mad, 1e-9 * (float(old.max() - old.min()) or 1.0))
        out[t] = abs(v[t] - float(np.median(v[t - rest : t]))) / mad
    return out


def rel_entropy(v: np.ndarray) -> np.ndarray:
    """``2 W KL(last W || everything before)`` over :data:`BINS` bins of the warm range."""
    lo, hi = float(v[:WARM].min()), float(v[:WARM].max())
    span = hi - lo or 1.0
    b = np.clip(((v - lo) / span * BINS).astype(int), 0, BINS - 1)
    out = np.zeros(v.size)
    hist = np.bincount(b[:WARM], minlength=BINS).astype(float)
    for t in range(WARM, v.size):
        if t - W >= WARM:
            hist[b[t - W]] += 1  # the value leaving the window joins the history
        p = np.bincount(b[t - W + 1 : t + 1], minlength=BINS) + 0.5
        q = hist + 0.5
        p, q = p / p.sum(), q / q.sum()
        out[t] = 2 * W * float(np.sum(p * np.log(p / q)))
    return out


def describe(v: np.ndarray, a: int, b: int, rest: int) -> str:
    """Before (the ``b - a + 1`` rows before the window) vs inside: median, IQR, the one-step
    change's median |d|, the share of unchanged steps, and the inside's extremes against the
    range of every value before the window."""
    n = b - a + 1
    pre, ins = v[max(0, a - n) : a], v[a : b + 1]

    def stats(x: np.ndarray) -> str:
        d = np.abs(np.diff(x))
        q1, q3 = np.percentile(x, [25, 75])
        return (f"med {np.median(x):.4g} iqr {q3 - q1:.3g} |d| {np.median(d):.3g} "
                f"flat {np.mean(d == 0):.2f}")

    lo, hi = float(v[:a].min()), float(v[:a].max())
    return (f"before: {stats(pre)}; inside: {stats(ins)}; inside range {ins.min():.4g}.."
            f"{ins.max():.4g} vs all before {lo:.4g}..{hi:.4g}")


def blocks(v: np.ndarray, a: int, b: int, k: int = 8) -> str:
    """The medians of ``k`` blocks from ``a - (b - a + 1)`` to ``b + (b - a + 1)`` (before |
    inside | after), a text sketch of the shape."""
    n = b - a + 1
    out = []
    for lo, hi in ((max(0, a - n), a), (a, b + 1), (b + 1, min(v.size, b + 1 + n))):
        parts = np.array_split(v[lo:hi], k) if hi > lo else []
        out.append(" ".join(f"{np.median(p):.3g}" for p in parts if p.size))
    return " | ".join(out)


def why(raw: np.ndarray, sup: np.ndarray, a: int, b: int, thr: float, rest: int) -> str:
    """Why no row of ``[a, b]`` reaches ``thr``: each raw row ``>= thr`` with its rest scale
    and the row of the raw onset that set it."""
    rows = [t for t in range(a, b + 1) if raw[t] >= thr]
    if not rows:
        return f"no raw >= {thr} inside (max raw {raw[a:b + 1].max():.3f})"
    out = []
    for t in rows:
        prev = [u for u in range(max(0, t - rest), t) if raw[u] >= 0.75]
        src = f"onset {t - prev[-1]} rows before (row {prev[-1]})" if prev else "no onset"
        out.append(f"row {t} raw {raw[t]:.3f} -> {sup[t]:.3f} ({src})")
    return "; ".join(out)


def share(sig: np.ndarray, inside: np.ndarray, start: int, peak: float) -> float:
    """The share of the file's scored rows outside every window whose signal reaches ``peak``."""
    out = sig[start:][~inside[start:]]
    return float(np.mean(out >= peak)) if out.size else float("nan")


def corpus_check(c, raw, values, sigs) -> None:  # type: ignore[no-untyped-def]
    """Each signal as a detector alone on all 31 files: at each level, the windows whose
    peak (after probation) reaches it, and the onsets outside every window (a row reaching
    it with none in the file's rest before it), all files together."""
    for name, levels in sigs:
        for lvl in levels:
            found = onsets = 0
            for n in c.names:
                prep = c._prep["standard"][n]
                s = SIGNALS[name](raw[n], np.asarray(values[n], dtype=float))
                s[: prep.probation] = 0.0
                inside = np.zeros(s.size, dtype=bool)
                for a, b in prep.windows:
                    inside[a : b + 1] = True
                    found += bool(s[a : b + 1].max() >= lvl)
                hit, rest, last = s >= lvl, rest_rows(s.size), -10**9
                for t in np.flatnonzero(hit):
                    if t - last > rest and not inside[t]:
                        onsets += 1
                    last = t
            print(f"{name} >= {lvl}: windows reached {found} of {c.windows_of(c.names)}, "
                  f"onsets outside windows {onsets}")


def marginal(c, raw, values, name: str, lvl: float) -> None:  # type: ignore[no-untyped-def]
    """The signal at ``lvl`` beside the default (at the folds' thresholds): the default's
    missed windows it reaches, and its onsets outside windows that no default detection
    precedes within the file's rest (the false alarms it would add)."""
    new, added = [], 0
    for n in c.names:
        prep = c._prep["standard"][n]
        r = raw[n]
        det = suppress(r) >= THRESHOLD.get(n.split("/")[0], 0.525)
        det[: prep.probation] = False
        s = SIGNALS[name](r, np.asarray(values[n], dtype=float))
        s[: prep.probation] = 0.0
        inside = np.zeros(s.size, dtype=bool)
        for a, b in prep.windows:
            inside[a : b + 1] = True
            if not det[a : b + 1].any() and s[a : b + 1].max() >= lvl:
                new.append(f"{n.split('/')[-1]} {a}")
        rest, last = rest_rows(s.size), -10**9
        for t in np.flatnonzero(s >= lvl):
            if t - last > rest and not inside[t] and not det[max(0, t - rest) : t + 1].any():
                added += 1
            last = t
    print(f"{name} >= {lvl} beside the default: missed windows reached {new}, false onsets "
          f"added {added}")


class _Origins(ContextNovelty):
    """:class:`ContextNovelty` that records the row at which each context slot was first
    marked (``first``)."""

    __slots__ = ("first",)

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.first: dict[int, int] = {}

    def _new(self, slots: tuple[int, ...], learn: bool = False) -> int:
        if learn:
            for slot in slots:
                self.first.setdefault(slot, self.n)
        return super()._new(slots, learn)


def origins(c, values, raw) -> None:  # type: ignore[no-untyped-def]
    """For each missed window: the contexts of its rows, and when each was first seen: in the
    warm values, in this window, during an alarm's rest (within ``rest`` rows after a raw
    onset >= 0.75), inside an earlier labelled window, or in a quiet stretch."""
    for n, a, b in MISSED:
        v, r = np.asarray(values[n], dtype=float), raw[n]
        m = _Origins(bins=8, order=3, margin=0.25, warm=WARM, tail_min=100)
        slots_at = []
        for t, x in enumerate(v):
            if a <= t <= b:
                slots_at.append(m._slots(m._level(float(x), m.lo, m.hi)))
            m.step(float(x))
        rest, prep = rest_rows(v.size), c._prep["standard"][n]
        onset = np.flatnonzero(r >= 0.75)
        where = {"warm": 0, "this window": 0, "alarm rest": 0, "earlier window": 0, "quiet": 0}
        for slot in {s for ss in slots_at for s in ss}:
            t0 = m.first[slot]
            if t0 < WARM:
                where["warm"] += 1
            elif t0 >= a:
                where["this window"] += 1
            elif np.any((onset <= t0) & (onset > t0 - rest)):
                where["alarm rest"] += 1
            elif any(lo <= t0 <= hi for lo, hi in prep.windows):
                where["earlier window"] += 1
            else:
                where["quiet"] += 1
        print(f"{n.split('/')[-1]} {a}: contexts first seen {where}")


MISSED = (("realAdExchange/exchange-4_cpm_results.csv", 729, 769),
          ("realKnownCause/machine_temperature_system_failure.csv", 16057, 16623),
          ("realKnownCause/nyc_taxi.csv", 7080, 7286), ("realKnownCause/nyc_taxi.csv", 8423, 8629),
          ("realKnownCause/rogue_agent_key_hold.csv", 669, 763),
          ("realKnownCause/rogue_agent_key_hold.csv", 1240, 1334))
SIGNALS = {"lik": lambda r, v: likelihood(r), "re": lambda r, v: rel_entropy(v)}


def main() -> None:
    c, values = corpus()
    raw = cached_raw("default", values)
    if "--corpus" in sys.argv:
        corpus_check(c, raw, values, (("lik", (0.1, 0.3, 0.5, 0.75)),
                                      ("re", (60.0, 90.0, 125.0, 190.0))))
        return
    if "--origins" in sys.argv:
        origins(c, values, raw)
        return
    if "--marginal" in sys.argv:
        for name, lvl in (("lik", 0.75), ("lik", 0.5), ("re", 125.0), ("re", 90.0)):
            marginal(c, raw, values, name, lvl)
        return
    if "--at" in sys.argv:
        THRESHOLD.clear()
        THRESHOLD.update({k: float(sys.argv[sys.argv.index("--at") + 1])
                          for k in ("realKnownCause", "realAdExchange", "realTraffic",
                                    "artificialWithAnomaly")})
    print("| file | window (rows) | rows before / probation / rest | raw kinds inside (1 / 0.75 "
          "/ 0.5 / 0.25 / seasonal / 0) | max score inside | lik max (fp share) | z max (fp "
          "share) | re max (fp share) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    notes = []
    for n in c.names:
        prep = c._prep["standard"][n]
        r, v = raw[n], np.asarray(values[n], dtype=float)
        sup = suppress(r)
        thr = THRESHOLD.get(n.split("/")[0], 0.525)
        det = sup >= thr
        det[: prep.probation] = False
        inside = np.zeros(r.size, dtype=bool)
        for a, b in prep.windows:
            inside[a : b + 1] = True
        missed = [(a, b) for a, b in prep.windows if not det[a : b + 1].any()]
        if not missed:
            continue
        rest = rest_rows(r.size)
        lik, z, re = likelihood(r), robust_z(v, rest), rel_entropy(v)
        for a, b in missed:
            w = slice(a, b + 1)
            ctx = [int(np.sum(r[w] == k)) for k in (1.0, 0.75, 0.5, 0.25)]
            kinds = (*ctx, int(np.sum(r[w] > 0)) - sum(ctx), int(np.sum(r[w] == 0)))
            sig = "| ".join(f"{s[w].max():.3g} ({share(s, inside, prep.probation, s[w].max()):.3f})"
                            f" " for s in (lik, z, re))
            print(f"| {n.split('/')[-1]} | {a}-{b} | {a} / {prep.probation} / {rest} | "
                  f"{' / '.join(map(str, kinds))} | {sup[w].max():.4f} | {sig}|")
            notes.append(f"{n} {a}-{b} (thr {thr}): {describe(v, a, b, rest)}\n  shape: "
                         f"{blocks(v, a, b)}\n  why: {why(r, sup, a, b, thr, rest)}\n  "
                         f"signal rows: lik argmax +{int(np.argmax(lik[w]))}, z argmax "
                         f"+{int(np.argmax(z[w]))}, re argmax +{int(np.argmax(re[w]))}")
    print("\n" + "\n".join(notes))


if __name__ == "__main__":
    main()
