"""Worker memory against the number of components: ``python -m streams.bench.memory``.

For each count a fresh child process builds what a worker holds: a
:class:`streams.runtime.checkpoint.CheckpointedPipeline` under the worker's settings with
``count`` warm components of 12 metrics each. Warming 100,000 components sample by sample
would take hours, so one component is warmed on ``warm_s`` of the bench's ``fleet`` data,
checkpointed, and its checkpoint decoded once per component (what a worker does when a
rebalance hands it a partition: each component gets its own objects, none shared), then
every component ingests one more sample through the worker's path (marks, windows, health).

Reported per count: the process's RSS before and after (``psutil``), the growth per component
(``rss_per_component_bytes``: the states, each component then checkpointed once as the
worker does, which keeps its last checkpoint; ``rss_state_per_component_bytes``: the states
alone, before that; ``rss_state_marginal_per_component_bytes``: the same past the first tenth
of the components, which leaves out memory the process had freed before, that the first
components fill at no cost in RSS: ~3.7 MB, so 1,000 components read ~3.5 KB less each than
10,000), the kept checkpoints' bytes, and the checkpoint bytes of one component
(``state_bytes_per_component``, the framed, compressed snapshot the worker writes). A count
whose RSS, extrapolated from the smaller ones, would take more than half the memory now
available is skipped and says so (the machine is shared: 100,000 components need ~9 GB). The
worker's cap is reported beside it: ``max_components`` (default 50,000) states at most, the
least recently seen checkpointed, then evicted (and restored from that checkpoint if seen
again); ``evict_idle_s`` (default 6 h of event time) likewise for one unseen that long.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from typing import Any

import psutil

COUNTS = (1_000, 10_000, 100_000)


def warm(warm_s: int = 3600) -> tuple[Any, bytes, dict[str, Any], int]:
    """A worker's pipeline and the snapshot of one component of the ``fleet`` data warmed on
    ``warm_s`` of its event time (a sample per 10 s), its last sample (not yet ingested) and
    the size of its framed checkpoint; the component itself is let go."""
    pipe, snapshot, after, framed = warm_tail(warm_s, 1)
    return pipe, snapshot, after[0], framed


def warm_tail(warm_s: int, tail: int, **limits: int) -> tuple[Any, bytes, list[Any], int]:
    """:func:`warm`, with the component's ``tail`` samples that follow (not ingested) and the
    pipeline built with ``limits`` (``max_components``, ``evict_idle_s``, ``park_bytes``)."""
    from streams.runtime.checkpoint import CheckpointedPipeline, CheckpointPolicy
    from streams.runtime.worker import pipeline_config
    from streams.settings import Settings
    from streams.sim.examples import fleet_samples

    settings = Settings.load(env={})
    pipe = CheckpointedPipeline(pipeline_config(settings), settings.topic("metrics"),
                                CheckpointPolicy.from_settings(settings), **limits)
    data = fleet_samples(50 * (warm_s // 10 + tail))
    name = str(data[0]["component"])
    mine = [s for s in data if s["component"] == name]
    pipe.at(0, 0)
    for s in mine[:-tail]:
        pipe.ingest(s)
    got = pipe.checkpoint(name, now_ms=0)
    assert got is not None
    snapshot = pipe.snapshot(name)
    pipe.drop(name)
    pipe.marks.pop(name, None)
    gc.collect()
    return pipe, snapshot, mine[-tail:], len(got[1])


def restore_many(pipe: Any, snapshot: bytes, last: dict[str, Any], count: int,
                 start: int = 0) -> None:
    """``count`` components (numbered from ``start``), each its own decode of ``snapshot``,
    then one more sample each through the worker's path (what a worker does with the
    partitions a rebalance hands it)."""
    from processors.stateformat import decode as decode_state

    for i in range(start, start + count):
        comp = f"c{i:06d}"
        state = decode_state(snapshot)["state"]
        # what Pipeline.restore does once the payload is read (its component check aside)
        pipe._states[comp] = state
        pipe.evaluator.states[comp] = state.health
        pipe.at(0, i + 1)
        pipe.ingest({**last, "component": comp, "host": comp})


def child(count: int, warm_s: int = 3600) -> dict[str, Any]:
    """In this process: ``count`` components restored from one warm checkpoint (see above)."""
    pipe, snapshot, last, framed = warm(warm_s)
    metrics = len(last["metrics"])
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    t0 = time.process_time()
    first = max(1, count // 10)  # the marginal growth leaves out free memory the first fill
    restore_many(pipe, snapshot, last, first)
    gc.collect()
    rss_first = proc.memory_info().rss
    restore_many(pipe, snapshot, last, count - first, start=first)
    restore_s = time.process_time() - t0
    gc.collect()
    rss1 = proc.memory_info().rss
    held = checkpoint_all(pipe)
    rss2 = proc.memory_info().rss
    return {"components": count, "metrics": metrics, "warm_s": warm_s,
            "held": len(pipe.components()),
            "rss_before_mb": rss0 / 2**20, "rss_after_mb": rss2 / 2**20,
            "rss_per_component_bytes": (rss2 - rss0) / count,
            "rss_state_per_component_bytes": (rss1 - rss0) / count,
            "rss_state_marginal_per_component_bytes": (rss1 - rss_first) / max(1, count - first),
            "checkpoint_held_bytes_per_component": held / count,
            "state_bytes_per_component": framed,
            "restore_and_ingest_ms_per_component": 1000 * restore_s / count}


def checkpoint_all(pipe: Any) -> int:
    """Checkpoint every component once, as the worker does with each new one (and then
    periodically): snapshotting touches every state object, and the worker keeps each
    component's last checkpoint (``Mark.value``, re-sent with a newer offset while the state
    is unchanged). The bytes of those kept checkpoints."""
    for comp in list(pipe.components()):
        pipe.checkpoint(comp, now_ms=0)
    gc.collect()
    return sum(len(m.value or b"") for m in pipe.marks.values())


def child_live(count: int, warm_s: int = 3600) -> dict[str, Any]:
    """The cross-check of :func:`child`: ``count`` components of the ``fleet`` scenario warmed
    sample by sample for ``warm_s`` each (slow: ~0.2 ms of CPU per sample)."""
    from streams.runtime.checkpoint import CheckpointedPipeline, CheckpointPolicy
    from streams.runtime.worker import pipeline_config
    from streams.settings import Settings
    from streams.sim.examples import fleet_samples

    settings = Settings.load(env={})
    pipe = CheckpointedPipeline(pipeline_config(settings), settings.topic("metrics"),
                                CheckpointPolicy.from_settings(settings))
    data = fleet_samples(count * (warm_s // 10 + 1), components=count)
    gc.collect()
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    t0 = time.process_time()
    for i, s in enumerate(data):
        pipe.at(0, i)
        pipe.ingest(s)
    cpu_s = time.process_time() - t0
    gc.collect()
    rss1 = proc.memory_info().rss
    held = checkpoint_all(pipe)
    rss2 = proc.memory_info().rss
    sizes = sorted(len(m.value or b"") for m in pipe.marks.values())
    return {"components": count, "metrics": len(data[-1]["metrics"]), "warm_s": warm_s,
            "held": len(pipe.components()), "live": True,
            "rss_before_mb": rss0 / 2**20, "rss_after_mb": rss2 / 2**20,
            "rss_per_component_bytes": (rss2 - rss0) / count,
            "rss_state_per_component_bytes": (rss1 - rss0) / count,
            "checkpoint_held_bytes_per_component": held / count,
            "state_bytes_per_component": sizes[len(sizes) // 2],
            "cpu_us_per_sample": 1e6 * cpu_s / len(data)}


def measure(count: int, warm_s: int = 3600) -> dict[str, Any]:
    """:func:`child` in a fresh interpreter, so each count starts from the same RSS."""
    out = subprocess.run([sys.executable, "-m", "streams.bench.memory", "child",
                          "--components", str(count), "--warm-s", str(warm_s)],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"memory child ({count} components) failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench_memory(seconds: float = 3.0, counts: tuple[int, ...] = COUNTS) -> dict[str, float]:
    """``make bench`` section: RSS per count, flat (``seconds`` is unused: sizes, not rates)."""
    from streams.settings import Settings

    s = Settings.load(env={})
    out: dict[str, float] = {"max_components": float(s.max_components),
                             "evict_idle_s": float(s.evict_idle_s)}
    per_component = 0.0
    for count in sorted(counts):
        need_mb = 200 + count * per_component / 2**20  # from the counts measured so far
        free_mb = psutil.virtual_memory().available / 2**20
        if need_mb > free_mb / 2:  # a shared machine: never take more than half of what is free
            out[f"c{count}_skipped_needs_mb"] = need_mb
            out[f"c{count}_skipped_free_mb"] = free_mb
            continue
        r = measure(count)
        per_component = max(per_component, float(r["rss_per_component_bytes"]))
        for k in ("rss_after_mb", "rss_per_component_bytes", "rss_state_per_component_bytes",
                  "checkpoint_held_bytes_per_component", "state_bytes_per_component",
                  "restore_and_ingest_ms_per_component"):
            out[f"c{count}_{k}"] = float(r[k])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.bench.memory")
    sub = p.add_subparsers(dest="cmd")
    c = sub.add_parser("child", help="one count in this process (the bench runs it)")
    c.add_argument("--components", type=int, required=True)
    c.add_argument("--warm-s", type=int, default=3600)
    c.add_argument("--live", action="store_true",
                   help="warm every component sample by sample (the cross-check; slow)")
    p.add_argument("--counts", type=int, nargs="*", default=list(COUNTS))
    args = p.parse_args(argv)
    if args.cmd == "child":
        fn = child_live if args.live else child
        print(json.dumps(fn(args.components, args.warm_s)))
        return 0
    print(json.dumps(bench_memory(counts=tuple(args.counts)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
