"""Are the worker's outputs unchanged? ``python -m streams.bench.identity`` (docs/throughput.md).

Runs the replays used so far through :class:`streams.lab.replay.Replay` (the live worker's
handler: decode, pipeline, encode) and prints, per data set, the number of messages produced
and one SHA-256 over every one of them (topic, key and encoded value, in order: health, risk
and dead letters alike, the final flush included):

* ``fleet``: the throughput bench's data (``streams.sim.examples.fleet_samples``, 12,000
  samples of 50 components) as ``MetricBatch`` messages of 30 samples, the worker's batch path;
* ``mixed`` and ``ramp``: simulator scenarios, one ``MetricSample`` per message, as
  ``forewarn replay --scenario``;
* four NAB files, as ``forewarn replay --nab`` (one component per file, metric ``value``).

``--save FILE`` writes the digests as JSON; ``--check FILE`` compares with a saved run and exits
1 on any difference. Before and after a change to the hot path::

    python -m streams.bench.identity --save /tmp/before.json      # on the old tree
    python -m streams.bench.identity --check /tmp/before.json     # on the new one

``--batch N`` runs the same replays through the worker's batch path, ``N`` messages a poll
(``worker_batch``): its digests must equal those of the per-message path on the same tree.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from schemas.codec import Codec
from streams.handler import Out
from streams.lab.replay import Message, Replay, nab_samples, sample_messages
from streams.settings import Settings

NAB_DIR = Path("/work/shared/data/nab/data")
NAB_FILES = (
    "artificialWithAnomaly/art_daily_jumpsup.csv",
    "realKnownCause/ec2_request_latency_system_failure.csv",
    "realKnownCause/nyc_taxi.csv",
    "realTraffic/speed_7578.csv",
)


def _fleet(codec: Codec) -> Iterator[Message]:
    from streams.bench.throughput import encode_batches
    from streams.sim.examples import fleet_samples

    for offset, (key, value, _) in enumerate(encode_batches(codec, fleet_samples(12_000))):
        yield Message(value, key, "metrics", 0, offset, 0)


def _scenario(name: str) -> Callable[[Codec], Iterator[Message]]:
    def messages(codec: Codec) -> Iterator[Message]:
        from streams.sim.simulator import Fleet, scenario

        fleet = Fleet(scenario(name, seed=42))
        return sample_messages((s for step in fleet.run() for s in step), codec)
    return messages


def _nab(path: Path) -> Callable[[Codec], Iterable[Message]]:
    def messages(codec: Codec) -> Iterable[Message]:
        samples, _ = nab_samples(path, path.stem)
        return sample_messages(samples, codec)
    return messages


def datasets(nab_dir: Path = NAB_DIR) -> dict[str, Callable[[Codec], Iterable[Message]]]:
    out: dict[str, Callable[[Codec], Iterable[Message]]] = {
        "fleet": _fleet, "mixed": _scenario("mixed"), "ramp": _scenario("ramp")}
    for rel in NAB_FILES:
        if (nab_dir / rel).is_file():
            out[f"nab:{Path(rel).stem}"] = _nab(nab_dir / rel)
    return out


def batched_outs(replay: Replay, messages: Iterable[Message], size: int) -> Iterator[Out]:
    """:meth:`Replay.outs` through the worker's batch path: ``size`` messages a poll
    (:meth:`MetricsHandler.handle_batch`), then the final flush."""
    it = iter(messages)
    while chunk := list(itertools.islice(it, size)):
        for outs in replay.handler.handle_batch(chunk):
            yield from outs
    yield from replay.handler.flush()


def digest(messages: Iterable[Message], settings: Settings, batch: int = 0
           ) -> dict[str, object]:
    """Count and SHA-256 of every message a fresh replay emits for ``messages`` (``batch``
    messages a poll through the batch path; 0: one at a time, :meth:`MetricsHandler.handle`)."""
    from processors.batch.pipeline import BatchPipeline
    from streams.runtime.worker import pipeline_config

    codec = Codec()
    config = pipeline_config(settings)
    replay = Replay(config, codec, pipeline=BatchPipeline(config) if batch else None)
    h, n = hashlib.sha256(), 0
    by_topic: dict[str, int] = {}
    outs = batched_outs(replay, messages, batch) if batch else replay.outs(messages)
    for out in outs:
        h.update(len(out.topic).to_bytes(4, "big") + out.topic.encode())
        h.update(len(out.key).to_bytes(4, "big") + out.key)
        h.update(len(out.value).to_bytes(4, "big") + out.value)
        n += 1
        by_topic[out.topic] = by_topic.get(out.topic, 0) + 1
    return {"outputs": n, "by_topic": by_topic, "sha256": h.hexdigest()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.bench.identity")
    p.add_argument("--save", help="write the digests to this JSON file")
    p.add_argument("--check", help="compare with digests saved by --save; exit 1 if any differ")
    p.add_argument("--only", nargs="*", help="data sets to run (default: all)")
    p.add_argument("--batch", type=int, default=0, help="messages a poll through the worker's "
                   "batch path (MetricsHandler.handle_batch); 0: one at a time (default)")
    args = p.parse_args(argv)
    settings = Settings.load(env={})
    results: dict[str, object] = {}
    for name, messages in datasets().items():
        if args.only and name not in args.only:
            continue
        t0 = time.process_time()
        results[name] = digest(messages(Codec()), settings, args.batch)
        print(f"{name:48} {json.dumps(results[name])}  ({time.process_time() - t0:.1f} CPU s)",
              flush=True)
    if args.save:
        Path(args.save).write_text(json.dumps(results, indent=2, sort_keys=True))
    if args.check:
        saved = json.loads(Path(args.check).read_text())
        differ = [k for k in results if saved.get(k) != results[k]]
        print("identical" if not differ else f"DIFFERENT: {', '.join(differ)}")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
