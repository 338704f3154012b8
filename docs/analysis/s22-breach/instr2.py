"""docs/analysis/s19-breach/instr.py with the fleet's size and samples as arguments (s22):
``python instr2.py PASSES SAMPLES COMPONENTS [KEY=VALUE ...]``, under Callgrind. The bench's
workload (1,500 samples of 50 components: 5 windows each) labels no window (the horizon is 15
windows); 3,000 samples of 10 components (50 windows each) label ~35 a component."""
import sys

from schemas.codec import Codec
from streams.bench.inproc import inproc
from streams.bench.throughput import encode_batches
from streams.settings import Settings
from streams.sim.examples import fleet_samples

passes, samples, components = (int(a) for a in sys.argv[1:4])
env = {f"FOREWARN_PIPELINE__{k.upper()}": v for k, v in (a.split("=", 1) for a in sys.argv[4:])}
settings = Settings.load(env=env)
c = settings.pipeline_config()
print(c.alarm_learner, c.forecast_trust, c.hover)
batches = encode_batches(Codec(), fleet_samples(samples, components=components))
for _ in range(passes):
    inproc(settings, batches, 0)
