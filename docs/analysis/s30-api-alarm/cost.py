"""The read model's cost of the page (s30, hC): the bench's 10,000-component fleet
(``streams.bench.api.fleet_model``), its events as s29+ writes them (``alarm`` true at
risk >= 1/3, else false) or as before (no ``alarm``), on whichever tree PYTHONPATH names.

    PYTHONPATH=. python docs/analysis/s30-api-alarm/cost.py [--with-alarm]

Prints the full list's bytes, the CPU seconds of a cold encode (every component) and of a warm
request (cached bytes joined), and of ``?min_risk=0.9`` and (where the tree has it)
``?alarm=true``. CPU time (``time.process_time``), best of 5, so load moves it little.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import streams.bench.api as bench
from streams.api.model import ReadModel


def best(fn: Any, reps: int = 5, inner: int = 1) -> float:
    out = []
    for _ in range(reps):
        t = time.process_time()
        for _ in range(inner):
            fn()
        out.append((time.process_time() - t) / inner)
    return min(out)


def main() -> None:
    with_alarm = "--with-alarm" in sys.argv
    if with_alarm:  # every risk score carries the page, as s29+ writes them
        apply = ReadModel.apply

        def apply_alarm(self: ReadModel, kind: str, rec: Any, key: Any = None) -> None:
            if kind == "RiskScore":
                rec = {**rec, "alarm": rec["risk"] >= 1 / 3}
            apply(self, kind, rec, key)

        ReadModel.apply = apply_alarm  # type: ignore[method-assign]
    m = bench.fleet_model(10_000)
    body = m.components_json()
    def cold_list() -> None:
        for view in m.components_.values():
            view.cached = None
        m._parts = []  # noqa: SLF001
        m.components_json()

    cold = best(cold_list)
    warm = best(m.components_json, inner=20)
    mr = best(lambda: m.components_json(min_risk=0.9), inner=20)
    line = (f"bytes {len(body):,}  cold {cold * 1000:.1f} ms  warm {warm * 1000:.2f} ms  "
            f"min_risk=0.9 {mr * 1000:.2f} ms")
    if hasattr(m, "paging"):
        al = best(lambda: m.components_json(alarm=True), inner=20)
        line += f"  alarm=true {al * 1000:.2f} ms ({len(m.paging):,} firing)"
    print(line)


if __name__ == "__main__":
    main()
