"""The worker's outputs with ``act`` taken out, and what the allocators read, per data set:
``python docs/analysis/s20-breach/actdigest.py [--batch N] [KEY=VALUE ...] [--only NAME ...]``
(run from the tree's root; KEY a PipelineConfig field, e.g. ``forecast_trust=2.0``).

For each of ``streams.bench.identity``'s data sets, a fresh replay (per message, or ``--batch
N`` through the batch path) as identity runs it, and per data set:

* ``sha256``: identity's digest with every RiskScore re-encoded by the s19 schema
  (``schemas/avro/history/RiskScore.avsc``, no ``act``) after ``act`` is dropped: equal to
  ``python -m streams.bench.identity --save`` of the tree before s20 iff every output but the
  new field is byte-identical;
* ``act``: how many risk messages carry a non-null ``act`` (and in how many its risk, its
  anomaly differ from the alarm's);
* ``signal``: one SHA-256 over each risk message's key, ts, ``actuators.signal.signal`` and its
  ``breach`` and ``forecasts`` (what an allocator reads): equal between two configurations iff
  the allocators are fed the same; ``contributors`` (the engine's fallback when the breach
  metric maps to no usable resource) digested apart.
"""
import hashlib
import json
import sys
from dataclasses import replace

from actuators.signal import signal
from schemas.codec import SCHEMA_DIR, Codec, load_schemas
from streams.bench.identity import batched_outs, datasets
from streams.lab.replay import Replay
from streams.runtime.worker import pipeline_config
from streams.settings import Settings


def run(name: str, cfg: dict, batch: int) -> dict:
    from processors.batch.pipeline import BatchPipeline

    codec = Codec()
    old = Codec(schemas=dict(load_schemas(), **load_schemas(SCHEMA_DIR / "history")))
    config = replace(pipeline_config(Settings.load(env={})), **cfg)
    replay = Replay(config, codec, pipeline=BatchPipeline(config) if batch else None)
    messages = datasets()[name](codec)
    outs = batched_outs(replay, messages, batch) if batch else replay.outs(messages)
    h, s, c = hashlib.sha256(), hashlib.sha256(), hashlib.sha256()
    n, acts, risk_d, anom_d, alarms = 0, 0, 0, 0, 0
    for out in outs:
        value = out.value
        if out.topic == "risk":
            r = codec.decode(value)[1]
            act = r.pop("act")
            alarms += bool(r.pop("alarm", None))  # s29: the alarm state, not in the s19 schema
            if act is not None:
                acts += 1
                risk_d += act["risk"] != r["risk"]
                anom_d += act["anomaly"] != r["anomaly"]
            value = old.encode("RiskScore", r)
            s.update(json.dumps([out.key.decode(), r["ts"], signal({**r, "act": act}),
                                 r["breach"], r["forecasts"]]).encode())
            c.update(json.dumps(r["contributors"], sort_keys=True).encode())
        for part in (out.topic.encode(), out.key, value):
            h.update(len(part).to_bytes(4, "big") + part)
        n += 1
    return {"outputs": n, "sha256": h.hexdigest(), "act": [acts, risk_d, anom_d],
            "signal": s.hexdigest()[:16], "contributors": c.hexdigest()[:16], "alarm": alarms}


def main() -> None:
    args = sys.argv[1:]
    batch = int(args[args.index("--batch") + 1]) if "--batch" in args else 0
    cfg, only = {}, []
    for a in args:
        if "=" in a:
            k, v = a.split("=", 1)
            cfg[k] = float(v) if "." in v else int(v)
        elif not a.startswith("--") and not a.isdigit():
            only.append(a)
    for name in datasets():
        if not only or name in only:
            print(f"{name:48} {json.dumps(run(name, cfg, batch))}", flush=True)


if __name__ == "__main__":
    main()
