"""The joint model alone through Pipeline.ingest for N windows (jbench.py N): CPU us per sample,
snapshot bytes at 2,000 windows and at the end. Run with PYTHONPATH set to each tree."""
import sys, time, json
from dataclasses import replace
from processors.pipeline import Pipeline, PipelineConfig
from streams.bench.anomaly import _rows
n = int(sys.argv[1])
rows = _rows(n)
p = Pipeline(replace(PipelineConfig(window_s=60, lateness_s=0), anomaly_model="joint"))
sizes = {}
t = time.process_time()
for i, r in enumerate(rows):
    p.ingest(r)
    if i + 1 in (2000, n):
        sizes[i + 1] = len(p.snapshot("m"))
print(json.dumps({"us": (time.process_time() - t) / n * 1e6, "bytes": sizes}))
