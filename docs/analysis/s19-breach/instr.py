"""streams.bench.instructions with PipelineConfig options (``KEY=VALUE`` as the environment
FOREWARN_PIPELINE__KEY=VALUE): ``python instr.py PASSES [KEY=VALUE ...]``, under Callgrind."""
import sys

from schemas.codec import Codec
from streams.bench.inproc import inproc
from streams.bench.throughput import encode_batches
from streams.settings import Settings
from streams.sim.examples import fleet_samples

passes = int(sys.argv[1])
env = {f"FOREWARN_PIPELINE__{k.upper()}": v for k, v in (a.split("=", 1) for a in sys.argv[2:])}
settings = Settings.load(env=env)
print(settings.pipeline_config().forecast_trust, settings.pipeline_config().hover)
batches = encode_batches(Codec(), fleet_samples(1500))
for _ in range(passes):
    inproc(settings, batches, 0)
