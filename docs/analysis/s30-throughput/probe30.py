"""s30 (hT): what the per-window work does as the components age, by quarters of steady30.py's
run (12,000 samples, 240 a component): windows closed, the seen sets' ``mark`` calls (slots,
inserts, the set's mean length) and the batch trend refit's rows and points. Counters wrapped
around the pure functions (run it interpreted):

    FOREWARN_PURE_PYTHON=1 PYTHONPATH=. python docs/analysis/s30-throughput/probe30.py
"""

from __future__ import annotations

import collections
import os
import sys
from typing import Any

import processors.batch.outlook as bo
import processors.batch.trend as bt
import processors.bayesnet as bn
import processors.calibration as cal
import processors.evidence as ev
import processors.pipeline as pl
import processors.seenset as ss
import processors.univariate as uv
import streams.handler as h

QUARTER = 3000
cur = {"q": 0, "n": 0}
marks: dict[int, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
rows: dict[int, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
wins: collections.Counter[int] = collections.Counter()
calls: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)


def _counted(name: str, orig: Any) -> Any:
    def wrapped(*a: Any, **k: Any) -> Any:
        calls[name][cur["q"]] += 1
        return orig(*a, **k)
    return wrapped


def _mark(seen: bytearray, slots: tuple[int, ...], bits: int, orig: Any = ss.mark) -> int:
    before, bitmap = len(seen), (1 << bits) >> 3
    got = orig(seen, slots, bits)
    m = marks[cur["q"]]
    m[0] += 1
    m[1] += len(slots)
    m[2] += len(seen) - before if len(seen) != bitmap else 0
    m[3] += len(seen)
    return int(got)


def _fits(ts: Any, vs: Any, orig: Any = bt.fit_trends) -> Any:
    r = rows[cur["q"]]
    r[0] += 1
    r[1] += len(ts)
    r[2] += len(ts) * len(ts[0]) if ts else 0
    return orig(ts, vs)


def _evidence(*a: Any, orig: Any = ev.window_evidence, **k: Any) -> Any:
    wins[cur["q"]] += 1
    return orig(*a, **k)


def _batch(self: Any, msgs: Any, *a: Any, orig: Any = h.MetricsHandler.handle_batch,
           **k: Any) -> Any:
    cur["q"] = cur["n"] // QUARTER
    cur["n"] += 30 * len(msgs)  # the bench's batches: 30 samples a message
    return orig(self, msgs, *a, **k)


def main() -> None:
    uv.mark = _mark  # type: ignore[assignment]
    bo.fit_trends = _fits  # type: ignore[assignment]
    pl.window_evidence = _evidence  # type: ignore[assignment]
    h.MetricsHandler.handle_batch = _batch  # type: ignore[method-assign]
    cal.RiskLearner.learn_pair = _counted("learn_pair", cal.RiskLearner.learn_pair)  # type: ignore[method-assign]
    bn.BayesNet.explain = _counted("explain", bn.BayesNet.explain)  # type: ignore[method-assign]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import steady30

    steady30.main(["--samples", "12000", "--upto", "12000"])
    for q in sorted(marks):
        c, s, i, n = marks[q]
        print(f"samples {q * QUARTER}-{(q + 1) * QUARTER}: windows {wins[q]}; mark {c} calls "
              f"({c / max(wins[q], 1):.1f} a window), {s} slots, inserts {i / max(s, 1):.2f} of "
              f"them, set {n / max(c, 1):.0f} B on average; fit_trends {rows[q][0]} calls, "
              f"{rows[q][1]} rows, {rows[q][2] / max(rows[q][1], 1):.1f} points a row; "
              + ", ".join(f"{k} {v[q] / max(wins[q], 1):.2f} a window" for k, v in calls.items()))


if __name__ == "__main__":
    main()
