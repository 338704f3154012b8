"""Round twelve's diagnosis (labels read to place the windows): at the default (s23's record-gap
confirmation) and each fold's low-FP threshold, every window's first detection and every
false-alarm row, with its channel (context novelty or seasonal surprise), raw and score, the
hold's recovery (score / raw), the gap since the previous raw onset and the series' longest
gap before it (in rests), the raw onsets before it, and where the value lies against the
probation's values (a new extreme of the series so far; |x - median| in probation MADs).
``PYTHONPATH=. python docs/analysis/s24-nab/diag.py`` (~1 min with ``NAB_RAW_CACHE``)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, cv, default, load  # noqa: E402

from streams.lab.cv import category  # noqa: E402
from streams.lab.scoring.nab import probation_rows, rest_rows  # noqa: E402

channels = load("s23_channels", "s23-nab/channels.py").channels


def events(c, values, raw, sc, thr):  # type: ignore[no-untyped-def]
    """Rows of (label, file, row, features) at each file's fold threshold."""
    out = []
    for n, r in raw.items():
        prep, rest, v = c._prep["standard"][n], rest_rows(r.size), values[n]
        det = sc[n] >= thr[category(n)]
        det[: prep.probation] = False
        inside, first = np.zeros(r.size, dtype=bool), set()
        for a, b in prep.windows:
            inside[a : b + 1] = True
            hits = np.flatnonzero(det[a : b + 1])
            first.update([a + hits[0]] if hits.size else [])
        nov, sea, _ = channels(v)
        ons = np.flatnonzero(r >= 0.75)
        pr = v[: probation_rows(v.size)]
        med = np.median(pr)
        mad = np.median(np.abs(pr - med)) or 1e-9
        for t in np.flatnonzero(det):
            if inside[t] and t not in first:
                continue
            prev = ons[ons < t]
            gaps = np.diff(prev)
            out.append({
                "label": "window" if inside[t] else "false", "file": n, "row": int(t),
                "chan": "seas" if sea[t] > nov[t] else f"nov{nov[t]:.2f}",
                "raw": float(r[t]), "score": float(sc[n][t]),
                "gap": (t - prev[-1]) / rest if prev.size else np.inf,
                "gapmax": gaps.max() / rest if gaps.size else 0.0, "onsets": int(prev.size),
                "extreme": bool(v[t] > v[:t].max() or v[t] < v[:t].min()),
                "z": float(abs(v[t] - med) / mad)})
    return out


def main() -> None:
    c, values = corpus()
    raw = cached_raw("default", values)
    sc = {n: default(r) for n, r in raw.items()}
    res = cv(c, [{}], lambda _: sc)["reward_low_FP_rate"]
    thr = {f.held_out: f.threshold for f in res.folds}
    for e in events(c, values, raw, sc, thr):
        print(f"{e['label']:6s} {e['file'].split('/')[-1][:34]:34s} {e['row']:6d} {e['chan']:7s} "
              f"raw {e['raw']:.3f} sc {e['score']:.3f} gap {e['gap']:6.2f} max {e['gapmax']:6.2f} "
              f"on {e['onsets']:3d} ext {int(e['extreme'])} z {e['z']:8.1f}")


if __name__ == "__main__":
    main()
