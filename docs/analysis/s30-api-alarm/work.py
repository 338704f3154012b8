"""What Callgrind counted for s30's page in the read model (hC): run it under Callgrind twice
with two sizes and take the difference, on each tree (PYTHONPATH names it):

    OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0 PYTHONPATH=. valgrind --tool=callgrind \\
        --callgrind-out-file=/dev/null python docs/analysis/s30-api-alarm/work.py MODE N

- ``feed N``: N risk scores applied (100 components; every score carries ``alarm``, true for
  3 minutes in 7): per score = (count(6000) - count(2000)) / 4000.
- ``warm N``: the bench's 10,000-component list built and encoded once, then N requests
  (cached bytes joined): per request = (count(12) - count(2)) / 10.
- ``cold N``: N rounds of every component encoded afresh plus two warm requests: per round =
  (count(3) - count(1)) / 2.

s30, this script (base 4cfdbfa / with the page), instructions: feed 56,128 / 58,363 a score
(+4.0 %); warm 6,707,119 / 6,880,087 a request (+2.6 %; an earlier run of the same work,
scripted apart: 6,862,407 / 6,790,963, -1.0 %: the join moves the bytes, +8.3 %); cold
416,495,400 / 447,076,452 a round (+7.3 %; earlier 419,179,341 / 449,351,075).
"""

from __future__ import annotations

import sys
from typing import Any

T0 = 1_767_571_200_000


def score(i: int) -> dict[str, Any]:
    return {"component": f"c{i % 100}", "ts": T0 + (i // 100) * 60_000, "risk": 0.5,
            "anomaly": 0.2, "horizon_s": 900, "breach": None, "forecasts": [],
            "contributors": {}, "model": {"version": "t", "samples_seen": 1, "warm": True,
                                          "source": "component"},
            "alarm": (i // 100) % 7 < 3}


def main() -> None:
    mode, n = sys.argv[1], int(sys.argv[2])
    if mode == "feed":
        from streams.api.model import ReadModel

        recs = [score(i) for i in range(n)]
        m = ReadModel()
        for r in recs:
            m.apply("RiskScore", r)
        return
    import streams.bench.api as bench

    m = bench.fleet_model(10_000)
    if mode == "warm":
        m.components_json()
        for _ in range(n):
            m.components_json()
        return
    for _ in range(n):  # cold
        for view in m.components_.values():
            view.cached = None
        m._parts = []  # noqa: SLF001
        m.components_json()
        m.components_json()
        m.components_json()


if __name__ == "__main__":
    main()
