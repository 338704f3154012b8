"""Which of the worker's outputs an option changes, and how: ``python iddiff.py KEY=VALUE ...
[--only NAME ...]`` (KEY a PipelineConfig field, e.g. ``warn_trust=2.0``).

Runs ``streams.bench.identity``'s data sets (the fleet bench's batches, ``mixed``, ``ramp``,
four NAB files) through a fresh :class:`streams.lab.replay.Replay` with the default settings
and with the option, and compares the outputs message by message: per data set and topic, how
many there are and how many differ; for the risk messages that differ, the fields that differ,
the largest |risk difference|, the components and the first event time (ms) of a
difference. ``identity --check`` reads no environment (``Settings.load(env={})``), so it
cannot see an option set by ``FOREWARN_PIPELINE__*``; this does."""
import collections
import sys
from dataclasses import replace

from schemas.codec import Codec
from streams.bench.identity import datasets
from streams.lab.replay import Replay
from streams.runtime.worker import pipeline_config
from streams.settings import Settings


def outs(name: str, cfg: dict) -> list:
    codec = Codec()
    config = replace(pipeline_config(Settings.load(env={})), **cfg)
    return list(Replay(config, codec).outs(datasets()[name](codec)))


def compare(name: str, cfg: dict) -> None:
    a, b = outs(name, {}), outs(name, cfg)
    codec = Codec()
    n: collections.Counter = collections.Counter(o.topic for o in a)
    diff: collections.Counter = collections.Counter()
    fields: collections.Counter = collections.Counter()
    comps: set = set()
    dmax, first = 0.0, None
    for x, y in zip(a, b, strict=False):
        if (x.topic, x.key, x.value) == (y.topic, y.key, y.value):
            continue
        diff[x.topic] += 1
        if x.topic == y.topic and x.topic == "risk":
            rx, ry = codec.decode(x.value)[1], codec.decode(y.value)[1]
            fields.update(k for k in rx if rx.get(k) != ry.get(k))
            dmax = max(dmax, abs(float(rx["risk"]) - float(ry["risk"])))
            comps.add(rx.get("component"))
            first = rx.get("ts") if first is None else first
    print(f"{name:48} outputs {len(a)} -> {len(b)}; by topic {dict(n)}; differ {dict(diff)}"
          f"; risk fields {dict(fields)}; max |d risk| {dmax:.4f}; components {len(comps)}"
          f" {sorted(map(str, comps))[:6]}; first ts {first}", flush=True)


def main() -> None:
    cfg: dict = {}
    only: list = []
    for arg in sys.argv[1:]:
        if "=" in arg:
            k, v = arg.split("=", 1)
            cfg[k] = float(v) if "." in v else int(v)
        else:
            only.append(arg)
    for name in datasets():
        if not only or name in only:
            compare(name, cfg)


if __name__ == "__main__":
    main()
