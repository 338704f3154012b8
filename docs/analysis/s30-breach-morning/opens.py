"""The opening window of every page on a seasonal scenario's first day (s30, issue #15):
``python opens.py DIR [DIR ...]`` (DIR: a ``trace.py`` run whose name holds its seed, e.g.
``t42``: ``<scenario>.pkl`` and ``.t.pkl``, weekly and daily_peaks). Per page
(``falsepages.pages``, the scorer's count), true or false,
opened by the forecast (``breach``) or not: minutes since the component's first morning ramp
started, the metric with the highest breach p, its window mean over the day so far's folded top
(``x``: how far above anything seen today), its FAIL, the season ceiling (``-``: none), the
forecast means at the record horizons and the crossing's ETA read off them (linear between
the record horizons; ``>H``: none within the horizon)."""
import glob
import os
import pickle
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s30-breach-false"))
from falsepages import pages  # noqa: E402

from streams.sim.scenarios import scenario  # noqa: E402


def eta(mean: float, fail: float, fc: list) -> float | None:
    """Minutes to the first crossing of ``fail`` read off ``(horizon_s, mean)`` points."""
    h0, v0 = 0, mean
    for h, v in sorted(fc or []):
        if v is not None and v >= fail:
            return (h0 + (h - h0) * (fail - v0) / (v - v0 or 1e-12)) / 60 if v0 < fail else h0 / 60
        h0, v0 = h, v
    return None


def main(dirs: list[str]) -> None:
    for d in dirs:
        seed = int("".join(c for c in os.path.basename(d.rstrip("/")) if c.isdigit()))
        for path in sorted(glob.glob(os.path.join(d, "*.pkl"))):
            name = os.path.basename(path)[:-4]
            if "." in name or name not in ("weekly", "daily_peaks"):
                continue
            data = pickle.load(open(path, "rb"))
            t = pickle.load(open(os.path.join(d, name + ".t.pkl"), "rb"))
            ramp = {}
            for inc in scenario(name, seed).incidents:
                if inc.kind == "morning_peak" and inc.component not in ramp:
                    ramp[inc.component] = inc.start_ms
            at = {(r[0], r[1]): i for i, r in enumerate(data["rows"])}
            for p in pages(path):
                if not p["day0"]:
                    continue
                i = at[(p["comp"], p["t0"])]
                ms = t[i]["m"]
                k = max(ms, key=lambda m: (ms[m][7] or 0.0))
                mean, top, _, blind, ceil, fail, _, bp, fc = ms[k]
                e = eta(mean, fail, fc)
                print(f"s{seed:<3} {name:11} {p['comp']:15} {'TRUE ' if p['true'] else 'false'} "
                      f"{p['opener']:8} min {(p['t0'] - ramp[p['comp']]) / 6e4:7.1f} {k:13} "
                      f"mean {mean:6.3f} x{mean / top if top else float('nan'):5.2f} "
                      f"fail {fail:5.2f}"
                      f" ceil {'-' if ceil is None else round(ceil, 3)} bp {bp or 0:.2f} "
                      f"fc {[round(v, 2) for _, v in sorted(fc or [])]} "
                      f"eta {'>H' if e is None else f'{e:.1f}'}")


if __name__ == "__main__":
    main(sys.argv[1:])
