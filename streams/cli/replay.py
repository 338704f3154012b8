"""``forewarn replay``'s command line."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from schemas.codec import Codec
from schemas.errors import BrokerError, ConfigError

if TYPE_CHECKING:
    from streams.settings import Settings
from streams.lab.replay import (
    Message,
    Replay,
    TopicRange,
    _time_arg,
    merge_samples,
    nab_run,
    sample_messages,
    table_samples,
    topic_messages,
    write_json_lines,
)

# -- command line ------------------------------------------------------------------------------


def add_subcommand(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser(
        "replay", help="run a topic range, a simulator run or files through the pipeline",
        description="Replay metrics through the live worker's code path, in event time, as "
        "fast as it goes; risk events out as JSON lines (sorted keys) or to a topic.",
    )
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--topic", nargs="?", const="", help="a topic (default: the metrics topic)")
    src.add_argument("--scenario", help="a simulator scenario (see streams/sim/simulator.py)")
    src.add_argument("--nab", nargs="+", metavar="CSV", help="NAB timestamp,value files")
    src.add_argument("--table", "--csv", nargs="+", metavar="FILE",
                     help="CSV (or Parquet) files: a ts column and one column per metric")
    s.add_argument("--start", type=_time_arg, help="topic: first message time (ms or ISO)")
    s.add_argument("--end", type=_time_arg, help="topic: end message time, exclusive")
    s.add_argument("--start-offset", action="append", default=[], metavar="[P:]OFFSET")
    s.add_argument("--end-offset", action="append", default=[], metavar="[P:]OFFSET")
    s.add_argument("--seed", type=int, default=42, help="scenario seed")
    s.add_argument("--metric", default="value", help="NAB: the metric name of the value column")
    s.add_argument("--nab-results", metavar="DIR", help="NAB: write DIR/results/<cat>/<file>.csv")
    s.add_argument("--score", choices=["anomaly", "risk"], default="anomaly",
                   help="NAB: which field is the row's anomaly_score")
    s.add_argument("--component", help="table: one component for all files (in order)")
    s.add_argument("--ts-column", default="ts")
    s.add_argument("--ts-start", type=_time_arg, help="table: ts is a step index from here")
    s.add_argument("--ts-step-s", type=float, help="table: seconds per step index")
    s.add_argument("--window-s", type=int, help="override the window (default: settings)")
    s.add_argument("--lateness-s", type=int, help="override the lateness")
    s.add_argument("--out", default="-", help="JSON lines file ('-': stdout)")
    s.add_argument("--out-topic", help="produce risk events (Avro, as the worker) to this topic")
    s.set_defaults(func=cmd_replay)


def _offsets(items: Sequence[str]) -> dict[int, int] | None:
    out = {}
    for item in items:
        p, _, off = item.rpartition(":")
        out[int(p) if p else -1] = int(off)
    return out or None


def _messages(args: argparse.Namespace, settings: Settings, codec: Codec) -> Iterator[Message]:
    if args.topic is not None:
        rng = TopicRange(args.topic or settings.topic("metrics"), args.start, args.end,
                         _offsets(args.start_offset), _offsets(args.end_offset))
        return topic_messages(settings, rng)
    if args.scenario:
        from streams.sim.simulator import Fleet, scenario

        fleet = Fleet(scenario(args.scenario, seed=args.seed))
        return sample_messages((s for step in fleet.run() for s in step), codec)
    if (args.ts_start is None) != (args.ts_step_s is None):
        raise ConfigError("--ts-start and --ts-step-s go together (ts is then a step index)")
    step_ms = round(args.ts_step_s * 1000) if args.ts_step_s else None
    tables = [table_samples(f, args.component or Path(f).stem, ts_column=args.ts_column,
                            start_ms=args.ts_start, step_ms=step_ms) for f in args.table]
    if args.component:  # one component across files, in the order given
        tables = [[s for t in tables for s in t]]
    return sample_messages(merge_samples(tables), codec)


class _Sink:
    """Risk records to JSON lines, or to a topic encoded as the worker encodes them."""

    def __init__(self, args: argparse.Namespace, settings: Settings, codec: Codec) -> None:
        self.codec, self.topic, self.count = codec, args.out_topic, 0
        self.producer: Any = None
        self.fh: IO[bytes] | None = None
        if self.topic:
            from confluent_kafka import Producer

            from streams.topics import producer_config

            self.producer = Producer(producer_config(settings))
        else:
            self.fh = sys.stdout.buffer if args.out == "-" else open(args.out, "wb")  # noqa: SIM115

    def write(self, records: Iterable[Mapping[str, Any]]) -> None:
        if self.fh is not None:
            self.count += write_json_lines(records, self.fh)
            return
        for rec in records:
            value = self.codec.encode("RiskScore", rec, topic=self.topic)
            while True:
                try:
                    self.producer.produce(self.topic, key=str(rec["component"]).encode(),
                                          value=value)
                    break
                except BufferError:
                    self.producer.poll(0.05)
            self.producer.poll(0)
            self.count += 1

    def close(self) -> None:
        if self.fh is not None and self.fh is not sys.stdout.buffer:
            self.fh.close()
        if self.producer is not None and self.producer.flush(60):
            raise BrokerError(f"could not deliver every risk event to {self.topic} in 60 s")


def cmd_replay(args: argparse.Namespace) -> int:
    from streams.cli.commands import settings_of
    from streams.runtime.worker import pipeline_config

    settings = settings_of(args)
    changes = {k: getattr(args, k) for k in ("window_s", "lateness_s")
               if getattr(args, k) is not None}
    base = pipeline_config(settings.replace(**changes))
    codec = Codec(settings.wire_format,
                  registry_url=settings.registry_url or None)
    t0 = time.perf_counter()
    sink = _Sink(args, settings, codec)
    samples = dead = 0
    try:
        if args.nab:
            from streams.lab.nabdata import read_series, write_results

            for path in args.nab:
                scores, records = nab_run(path, base, component=Path(path).stem,
                                          metric=args.metric, field=args.score)
                if args.nab_results:
                    name = f"{Path(path).parent.name}/{Path(path).name}"
                    series = read_series(Path(path), name)
                    write_results(args.nab_results, name, series.timestamps, series.values, scores)
                sink.write(records)
                samples += scores.size
        else:
            replay = Replay(base, codec)
            sink.write(replay.risk(_messages(args, settings, codec)))
            samples = replay.handler.counters.samples
            dead = sum(replay.handler.counters.dead.values())
    finally:
        sink.close()
    dt = time.perf_counter() - t0
    print(f"replayed {samples} samples -> {sink.count} risk events, {dead} dead letters, "
          f"in {dt:.1f} s ({samples / dt:,.0f} samples/s)", file=sys.stderr)
    return 0
