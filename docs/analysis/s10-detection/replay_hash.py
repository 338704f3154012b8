"""Hash the risk events of a few scenarios through Pipeline.ingest (byte identity check)."""
import hashlib, json, sys, time
from dataclasses import replace
from processors.pipeline import Pipeline, PipelineConfig
from streams.sim.simulator import Fleet, scenario

names = sys.argv[1:] or ["cascading_failure", "memory_leak_linear"]
for name in names:
    for model in ("novelty", "hst", "joint"):
        sc = scenario(name, seed=42)
        cfg = PipelineConfig(anomaly_model=model, dependencies=tuple(
            (c.id, d) for c in sc.components for d in c.depends_on))
        p = Pipeline(cfg)
        h = hashlib.sha256()
        n = 0
        t = time.process_time()
        for step in Fleet(sc).run():
            for s in step:
                for r in p.ingest(s).risk:
                    h.update(json.dumps(r, sort_keys=True).encode()); n += 1
        for r in p.flush().risk:
            h.update(json.dumps(r, sort_keys=True).encode()); n += 1
        snap = sum(len(p.snapshot(c)) for c in p.components())
        print(name, model, n, h.hexdigest()[:16], f"{time.process_time()-t:.1f}s", snap, flush=True)
