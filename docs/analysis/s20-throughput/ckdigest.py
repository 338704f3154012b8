import os as _os, sys as _sys; _sys.path.insert(0, _os.getcwd())
"""SHA-256 over every checkpoint a worker writes (inproc loop, poll sizes 1 and 64) on the
bench's fleet data, plus every component's snapshot of the mixed scenario every 500 samples,
plus park/unpark (max_components) runs. Run in a tree dir."""
import functools, hashlib, sys
from schemas.codec import Codec
from streams.bench.throughput import encode_batches
from streams.settings import Settings
from streams.sim.examples import fleet_samples
from streams.handler import MetricsHandler
from streams.lab.message import Message
from streams.runtime.checkpoint import CheckpointedPipeline, CheckpointPolicy
from streams.runtime.worker import pipeline_config
from streams.runtime.ckwire import decode
def blob(v):
    ck = decode(v)
    return ck.blob + str((ck.offset, ck.watermark_ms, ck.partition)).encode()
settings = Settings.load(env={})
batches = encode_batches(Codec(), fleet_samples(int(sys.argv[1]) if len(sys.argv) > 1 else 12000))
def run(poll, maxc=0, every=None):
    pol = CheckpointPolicy.from_settings(settings) if every is None else CheckpointPolicy(every, 900, 10000)
    pipe = CheckpointedPipeline(pipeline_config(settings), settings.topic("metrics"), pol, max_components=maxc)
    handler = MetricsHandler(pipe, Codec(), settings.topic, wall_clock_ms=lambda: 0)
    h, n = hashlib.sha256(), 0
    for i in range(0, len(batches), poll):
        msgs = [Message(v, k, "metrics", 0, i + j, 0) for j, (k, v, _) in enumerate(batches[i:i + poll])]
        due = {}
        handler.handle_batch(msgs, pipe.at, lambda: due.update(dict.fromkeys(pipe.due())))
        for c in due:
            got = pipe.checkpoint(c, now_ms=0)
            if got: h.update(blob(got[1])); n += 1
        if maxc:
            for comp, why, got in pipe.evict_parked():
                if got: h.update(blob(got[1])); n += 1
    for c in pipe.components():
        got = pipe.checkpoint(c, 0)
        if got: h.update(blob(got[1])); n += 1
    return n, h.hexdigest()[:16], pipe.unparked
for args in ((64,), (1,), (64, 30), (7, 0, 1)):
    print(args, *run(*args), flush=True)
# every data set of the identity bench, per message, each component's checkpoint every 50 messages
from streams.bench.identity import datasets
for name, messages in datasets().items():
    if name == "fleet":
        continue
    pipe = CheckpointedPipeline(pipeline_config(settings), settings.topic("metrics"), CheckpointPolicy(50, 10**9, 10**9))
    handler = MetricsHandler(pipe, Codec(), settings.topic, wall_clock_ms=lambda: 0)
    h, n = hashlib.sha256(), 0
    for m in messages(Codec()):
        pipe.at(m.partition, m.offset)
        handler.handle(m.value, m.key, m.topic, m.partition, m.offset)
        for c in pipe.due():
            got = pipe.checkpoint(c, now_ms=0)
            if got: h.update(blob(got[1])); n += 1
    print(name, n, h.hexdigest()[:16], flush=True)
