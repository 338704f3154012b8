"""The anomaly models side by side: CPU per sample and state per component (issue #15).

One 38-metric component (SMD-like: values in [0, 1], slow random walks with noise), 3,000
one-minute windows through ``Pipeline.ingest`` under each ``anomaly_model``; CPU time
(``time.process_time``), not wall time, so other load on the machine matters less. Reported per
model: µs per sample and the component's snapshot bytes, and the ratio to ``novelty`` (the
default). ``python -m streams.bench anomaly`` runs it three times and keeps the medians.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from processors.pipeline import Pipeline, PipelineConfig

MODELS = ("novelty", "joint")


def _rows(n: int = 3000, metrics: int = 38, seed: int = 5) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    walk = np.clip(0.5 + np.cumsum(0.002 * rng.standard_normal((n, metrics)), axis=0), 0, 1)
    x = np.clip(walk + 0.01 * rng.standard_normal((n, metrics)), 0, 1)
    return [{"component": "m", "host": "m", "ts": i * 60_000, "tags": {},
             "metrics": {f"m{j}": float(v) for j, v in enumerate(row)}}
            for i, row in enumerate(x)]


def bench_anomaly(_seconds: float = 3.0) -> dict[str, float]:
    """``{model}_us_per_sample``, ``{model}_snapshot_bytes`` and ``joint_cpu_ratio``."""
    rows = _rows()
    out: dict[str, float] = {}
    for model in MODELS:
        p = Pipeline(replace(PipelineConfig(window_s=60, lateness_s=0), anomaly_model=model))
        t = time.process_time()
        for r in rows:
            p.ingest(r)
        out[f"{model}_us_per_sample"] = (time.process_time() - t) / len(rows) * 1e6
        out[f"{model}_snapshot_bytes"] = float(len(p.snapshot("m")))
    out["joint_cpu_ratio"] = out["joint_us_per_sample"] / out["novelty_us_per_sample"]
    return out
