"""Issue #15, s16 (hE): CPU per sample and snapshot bytes of the pipeline with the coarse
context resolution off (anomaly_coarse=0, the default) and on (4), in interleaved pairs.

    .venv/bin/python docs/analysis/s16-breach/cpu.py ../shared/data/nab [PAIRS]

Each pair runs one NAB file through the whole pipeline (streams.lab.replay.nab_run: windows,
health, novelty, outlooks, risk) under each setting, the order alternating; CPU time
(time.process_time) per row; the median ratio on over off is reported, with the load average.
Then a 38-metric component (streams.bench.anomaly's rows) under both: its snapshot bytes.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import replace

from processors.config import PipelineConfig
from processors.pipeline import Pipeline
from streams.bench.anomaly import _rows
from streams.lab.replay import nab_run

FILES = ("realKnownCause/ec2_request_latency_system_failure.csv",
         "realAdExchange/exchange-2_cpc_results.csv", "realTraffic/speed_7578.csv")


def per_row(data: str, name: str, coarse: int) -> float:
    t = time.process_time()
    scores, _ = nab_run(f"{data}/data/{name}", PipelineConfig(anomaly_coarse=coarse),
                        component=name)
    return (time.process_time() - t) / scores.size


def main(data: str, pairs: int) -> None:
    ratios = []
    print(f"load before: {os.getloadavg()}")
    for i in range(pairs):
        for name in FILES:
            order = (0, 4) if i % 2 == 0 else (4, 0)
            got = {c: per_row(data, name, c) for c in order}
            ratios.append(got[4] / got[0])
            print(f"pair {i} {name}: off {got[0] * 1e6:.1f} us/row, on {got[4] * 1e6:.1f} us/row,"
                  f" ratio {got[4] / got[0]:.3f}")
    print(f"median ratio (on / off) over {len(ratios)} pairs: {statistics.median(ratios):.3f};"
          f" load after: {os.getloadavg()}")
    rows = _rows()
    for coarse in (0, 4):
        p = Pipeline(replace(PipelineConfig(window_s=60, lateness_s=0), anomaly_coarse=coarse))
        for r in rows:
            p.ingest(r)
        print(f"38-metric component, coarse {coarse}: snapshot {len(p.snapshot('m')):,} bytes")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)
