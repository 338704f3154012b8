"""Where the held-out low-FP score is lost at the default (``hold``, threshold only: every
fold's threshold chosen on the other four categories, per profile as NAB does). Per category
and file: windows detected / missed, false-alarm rows, and the points each kind costs on the
fold's normalised scale (a perfect file is 100; a miss costs 2 · A_FN, a late detection
1 − its sweep value, a false alarm its |sweep value|). ``PYTHONPATH=. python
docs/analysis/s20-nab/loss.py [standard|reward_low_FP_rate]``."""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, cv, suppress  # noqa: E402

from streams.lab.cv import category  # noqa: E402


def file_loss(prep, threshold: float, a_fn: float):  # type: ignore[no-untyped-def]
    """``(tp, fn, fp rows, late loss, miss loss, fp loss, fp rows by raw kind)`` of a file."""
    s = prep.scores
    det = s >= threshold
    det[: prep.probation] = False
    inside = np.zeros(s.size, dtype=bool)
    late = miss = 0.0
    tp = fn = 0
    for left, right in prep.windows:
        inside[left : right + 1] = True
        hits = np.flatnonzero(det[left : right + 1])
        if hits.size:
            tp += 1
            late += 1.0 - prep.sweep[left + hits[0]]
        else:
            fn += 1
            miss += 1.0 + a_fn
    fp = det & ~inside
    return tp, fn, int(fp.sum()), late, miss, float(-prep.sweep[fp].sum()), np.flatnonzero(fp)


def main(suppressed=suppress) -> None:  # type: ignore[no-untyped-def]
    """The table; ``suppressed`` turns a file's raw scores into its scores (s21's ``loss.py``
    passes the confirming suppressor)."""
    profile = sys.argv[1] if len(sys.argv) > 1 else "reward_low_FP_rate"
    c, values = corpus()
    raw = cached_raw("default", values)
    sc = {n: suppressed(r) for n, r in raw.items()}
    res = cv(c, [{}], lambda _: sc)[profile]
    prof = c.profiles[profile]
    tot = np.zeros(3)
    print(f"{profile}: all-in {res.all_in:.1f}, mean {res.mean:.1f}, pooled {res.pooled:.1f}")
    print("| category / file | thr | score | TP / FN / FP rows | late | missed | false alarms |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: |")
    for f in res.folds:
        names = [n for n in c.names if category(n) == f.held_out]
        w = max(c.windows_of(names), 1)
        scale = 100.0 / (w * (prof.a_tp + prof.a_fn))
        rows = []
        for n in names:
            prep = c._prep[profile][n]
            prep = replace(prep, scores=sc[n])
            tp, fn, fp, late, miss, fpl, fprows = file_loss(prep, f.threshold, prof.a_fn)
            kinds = {k: int(np.sum(raw[n][fprows] == v)) for k, v in (("1", 1.0), ("0.75", 0.75))}
            rows.append((n, tp, fn, fp, late, miss, fpl, kinds))
        cat = np.array([r[4:7] for r in rows]).sum(axis=0)
        tot += cat * 100.0 / (c.windows_of(c.names) * (prof.a_tp + prof.a_fn))
        print(f"| **{f.held_out}** | {f.threshold:.3f} | {f.score:.1f} | {f.tp} / {f.fn} / {f.fp} "
              f"| {cat[0] * scale:.1f} | {cat[1] * scale:.1f} | {cat[2] * scale:.1f} |")
        for n, tp, fn, fp, late, miss, fpl, kinds in sorted(rows, key=lambda r: -sum(r[4:7])):
            if late + miss + fpl == 0:
                continue
            print(f"| {n.split('/')[-1]} | | | {tp} / {fn} / {fp} (raw 1: {kinds['1']}, 0.75: "
                  f"{kinds['0.75']}) | {late * scale:.1f} | {miss * scale:.1f} | "
                  f"{fpl * scale:.1f} |")
    print(f"pooled points lost: late {tot[0]:.1f}, missed {tot[1]:.1f}, false alarms "
          f"{tot[2]:.1f} (100 - sum = {100 - tot.sum():.1f})")


if __name__ == "__main__":
    main()
