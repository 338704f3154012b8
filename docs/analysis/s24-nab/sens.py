"""How robust the held-out figures are (``docs/modelling.md``, "NAB round twelve"): at the
default (s23's record-gap confirmation; threshold only, which the grid of 192 reproduces: every
fold chose the default's five parameters) and with ``floor`` 1, each fold's held-out score
(leave one category out: the spread), then the held-out pooled and mean when every fold's
threshold (chosen on the other categories) is moved by ``delta``, per profile.
``PYTHONPATH=. python docs/analysis/s24-nab/sens.py`` (~1 min with ``NAB_RAW_CACHE``)."""
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, cv, default  # noqa: E402
from floor import floored  # noqa: E402

from streams.lab.cv import category  # noqa: E402
from streams.lab.scoring.nab import normalise  # noqa: E402

DELTAS = (-0.05, -0.025, -0.01, -0.005, 0.0, 0.005, 0.01, 0.025, 0.05)


def shifted(c, sc, res, profile: str, delta: float) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """Held-out (mean, pooled, false-alarm rows) with every fold's threshold moved by delta."""
    prof, raws, scores, fps = c.profiles[profile], 0.0, [], 0
    for f in res[profile].folds:
        names = [n for n in c.names if category(n) == f.held_out]
        _, raw, _, fp, _ = c.evaluate(sc, profile, names, f.threshold + delta)
        raws, fps = raws + raw, fps + fp
        w = c.windows_of(names)
        if w:
            scores.append(normalise(raw, w, prof))
    return float(np.mean(scores)), normalise(raws, c.windows_of(c.names), prof), fps


def report(label: str, c, sc) -> None:  # type: ignore[no-untyped-def]
    res = cv(c, [{}], lambda _: sc)
    print(label)
    for p in ("standard", "reward_low_FP_rate"):
        r = res[p]
        folds = ", ".join(f"{f.held_out} {f.score:.1f} (thr {f.threshold:.4f}, FP {f.fp})"
                          for f in r.folds if math.isfinite(f.score))
        print(f"  {p}: mean {r.mean:.1f} ± {r.spread:.1f} (min {min(r.fold_scores):.1f}), "
              f"pooled {r.pooled:.1f}; {folds}")
        for d in DELTAS:
            m, pooled, fp = shifted(c, sc, res, p, d)
            print(f"    threshold {d:+.3f}: mean {m:.1f}, pooled {pooled:.1f}, FP events {fp}")


def main() -> None:
    c, values = corpus()
    raw = cached_raw("default", values)
    report("default (record-gap confirm)", c, {n: default(r) for n, r in raw.items()})
    report("floor 1", c, {n: floored(r) for n, r in raw.items()})


if __name__ == "__main__":
    main()
