"""Checkpoint bytes of one component with and without ``hold`` (12 metrics, 2,000 samples):
``PYTHONPATH=. python docs/analysis/s19-nab/state.py``."""
import math
import zlib

from processors.pipeline import Pipeline, PipelineConfig


def main() -> None:
    for hold in (False, True):
        p = Pipeline(PipelineConfig(anomaly_hold=hold))
        for i in range(2000):
            p.ingest({"component": "web-1", "host": "h-1", "ts": i * 10_000, "tags": {},
                      "metrics": {f"m{k}": 50 + 10 * math.sin(i / (20 + k)) + (i % 7) * k
                                  for k in range(12)}})
        blob = p.snapshot("web-1")
        print(f"hold {hold}: {len(blob):,} bytes ({len(zlib.decompress(blob[4:])):,} "
              "before compression)")


if __name__ == "__main__":
    main()
