"""State formats, measured: ``python -m streams.bench.state`` (figures in docs/state.md).

* A component's pipeline snapshot in the explicit format (``processors/stateformat.py``)
  beside the retired pickle of the same state: bytes, and median encode / decode time.
* The actuator's engine state at ``--components`` components: the old whole-file JSON rewrite
  (``json.dumps(engine.snapshot())``) beside an incremental save (``EngineStateStore``) of one
  changed component and of a 500-component batch, and a full compaction.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import random
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from actuators.engine import AllocationEngine, EngineConfig
from processors.pipeline import Pipeline, PipelineConfig
from streams.runtime.enginestate import EngineStateStore


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _samples(n: int, metrics: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        values = {f"m{j}": 50 + 10 * math.sin(i / (30 + j)) + rng.gauss(0, 1)
                  for j in range(metrics)}
        out.append({"component": "c", "host": "h", "ts": i * 10_000, "metrics": values,
                    "tags": {}})
    return out


def _pickled(payload: dict[str, Any]) -> bytes:
    return zlib.compress(pickle.dumps(payload, protocol=5), 6)


def _unpickled(blob: bytes) -> Any:
    return pickle.loads(zlib.decompress(blob))  # the bench's own bytes, the old format's cost


def pipeline_rows(repeat: int) -> list[str]:
    rows = ["| model | metrics | explicit bytes | pickle bytes | encode ms (explicit / pickle) "
            "| decode ms (explicit / pickle) |", "|---|---|---|---|---|---|"]
    for model in ("novelty", "hst", "joint"):
        for metrics in (3, 12):
            config = PipelineConfig(anomaly_model=model)
            p = Pipeline(config)
            for s in _samples(3000, metrics):
                p.ingest(s)
            blob = p.snapshot("c")
            payload = {"format": 2, "component": "c", "key": config.state_key(),
                       "state": p._states["c"], "fleet": p.fleet}
            old = zlib.compress(pickle.dumps(payload, protocol=5), 6)
            q = Pipeline(config)
            enc = _median_ms(partial(p.snapshot, "c"), repeat)
            enc_old = _median_ms(partial(_pickled, payload), repeat)
            dec = _median_ms(partial(q.restore, "c", blob), repeat)
            dec_old = _median_ms(partial(_unpickled, old), repeat)
            rows.append(f"| {model} | {metrics} | {len(blob):,} | {len(old):,} | "
                        f"{enc:.2f} / {enc_old:.2f} | {dec:.2f} / {dec_old:.2f} |")
    return rows


def _risk(component: str, ts: int, value: float) -> dict[str, Any]:
    return {"component": component, "ts": ts, "risk": value, "anomaly": 0.5, "horizon_s": 900,
            "breach": {"metric": "cpu.util", "threshold": 0.9, "eta_s": 300.0,
                       "probability": value},
            "forecasts": [{"metric": "cpu.util", "horizon_s": 300, "mean": 0.89, "lower": 0.5,
                           "upper": 0.99}],
            "contributors": {}, "model": {"version": "b", "samples_seen": 100, "warm": True,
                                          "source": "component"}}


def engine_rows(n: int, repeat: int) -> list[str]:
    engine = AllocationEngine(EngineConfig(holdout=0.0, max_new_components_per_host=0))
    t0 = 1_700_000_000_000
    names = [f"h-{i // 10}/app-{i % 10}" for i in range(n)]
    for i, c in enumerate(names):
        engine.on_risk(_risk(c, t0 + i, 0.9), c.split("/")[0])
        engine.on_health({"component": c, "ts": t0 + 60_000 + i, "metric": "cpu.util",
                          "value": 0.5, "status": "PASS", "rule": "cpu.util.high",
                          "threshold": None, "heartbeat": False})
    engine.drain_outcomes()
    rows = ["| what | bytes written | median ms |", "|---|---|---|"]
    whole = json.dumps(engine.snapshot())
    rows.append(f"| old: whole state as JSON, each save (`json.dumps(engine.snapshot())`) | "
                f"{len(whole):,} | {_median_ms(lambda: json.dumps(engine.snapshot()), 3):.0f} |")
    with tempfile.TemporaryDirectory() as tmp:
        store = EngineStateStore(Path(tmp) / "a.state", {"cluster_id": "b"}, sweep=0)
        t = time.perf_counter()
        size = store.save(engine, {"r[0]": 1})
        rows.append(f"| new: the first save or start-up (the whole state, from the engine) | "
                    f"{size:,} | "
                    f"{(time.perf_counter() - t) * 1000:.0f} |")
        rows.append(f"| new: a save with nothing changed (offsets only) | "
                    f"{store.save(engine, {'r[0]': 2}):,} | "
                    f"{_median_ms(lambda: store.save(engine, {'r[0]': 2}), repeat):.2f} |")
        step = [0]

        def one(k: int) -> tuple[int, float]:
            """``k`` components change (not timed), then one save (timed)."""
            step[0] += 1
            batch = [names[(step[0] * 7919 + j) % n] for j in range(k)]
            for c in batch:
                engine.on_risk(_risk(c, t0 + 3_600_000 + step[0] * 60_000, 0.95),
                               c.split("/")[0])
            t = time.perf_counter()
            store.touch(batch)
            written = store.save(engine, {"r[0]": 3 + step[0]})
            return written, (time.perf_counter() - t) * 1000

        for k in (1, 500):
            runs = [one(k) for _ in range(repeat)]
            rows.append(f"| new: a save after {k} component(s) changed | {runs[0][0]:,} | "
                        f"{statistics.median(ms for _, ms in runs):.2f} |")
        t = time.perf_counter()
        store.compact_log({"r[0]": 10**6})
        rows.append(f"| new: compaction of the log (dead frames 3x live: copies live frames) | "
                    f"{store.live_bytes:,} | {(time.perf_counter() - t) * 1000:.0f} |")
        store.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--components", type=int, default=30_000)
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args(argv)
    print("\n".join(pipeline_rows(args.repeat)))
    print()
    print(f"engine state, {args.components:,} components, each holding a lease:")
    print("\n".join(engine_rows(args.components, args.repeat)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
