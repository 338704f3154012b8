"""Writes ``checkpoint-v2-*.bin``: component snapshots in the retired format 2 (a zlib'd pickle).

Kept as the fixture of the migration test (``tests/unit/test_state_format.py``); format 2 is
never read by a running process. Regenerate only to change what the fixture holds::

    .venv/bin/python tests/data/make_checkpoint_v2.py
"""

from __future__ import annotations

import json
import math
import pickle
import random
import zlib
from pathlib import Path
from typing import Any

from processors.pipeline import Pipeline, PipelineConfig

HERE = Path(__file__).parent


def samples(component: str, n: int, seed: int, start_ms: int = 0) -> list[dict[str, Any]]:
    """``n`` samples 10 s apart: a daily-ish cpu cycle, memory that leaks into FAIL and back."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        ts = start_ms + i * 10_000
        mem = 60.0 + 40.0 * ((i % 900) / 900) + rng.gauss(0, 0.5)
        out.append({
            "component": component, "host": "h-1", "ts": ts, "tags": {},
            "metrics": {
                "cpu.util": 0.4 + 0.2 * math.sin(i / 90.0) + rng.gauss(0, 0.02),
                "mem.used_pct": min(mem, 99.0),
                "disk.used_pct": 40.0 + i * 0.001,
            },
        })
    return out


def main() -> None:
    for name, config in (("novelty", PipelineConfig()),
                         ("hst", PipelineConfig(anomaly_model="hst", forecaster="trend"))):
        p = Pipeline(config)
        for s in samples("db-1", 2400, seed=7):
            p.ingest(s)
        p.on_action("db-1", 23_000_000)
        st = p._states["db-1"]
        payload = {"format": 2, "component": "db-1", "key": config.state_key(), "state": st,
                   "fleet": p.fleet}
        (HERE / f"checkpoint-v2-{name}.bin").write_bytes(
            zlib.compress(pickle.dumps(payload, protocol=5), 6))
        facts = {
            "samples_seen": st.samples_seen, "windows_seen": st.windows_seen,
            "labels": st.learner.labels, "fleet_labels": p.fleet.labels,
            "watermark_ms": st.windower.state.watermark_ms,
            "outlooks": sorted(st.outlooks),
        }
        (HERE / f"checkpoint-v2-{name}.json").write_text(json.dumps(facts, indent=1) + "\n")


if __name__ == "__main__":
    main()
