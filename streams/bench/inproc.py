"""The worker's in-process work, without Kafka, for ``streams/bench/throughput.py``: the
CPU bound of the worker, by the per-message or the batch path (``python -m
streams.bench.throughput inproc --polls 1 64``)."""

from __future__ import annotations

import functools
import statistics
import time
from typing import Any

from schemas.codec import Codec
from streams.runtime.gctune import tune_gc
from streams.settings import Settings


def inproc(settings: Settings, batches: list[tuple[bytes, bytes, int]], poll: int = 0,
           closing: bool = True, codec: Codec | None = None) -> dict[str, float]:
    """The worker's work without Kafka: handle, then due checkpoints; ``poll`` messages at a
    time through the batch path as the worker (``worker_batch``; 0: the settings'), or one by
    one (1: the per-message path). With ``closing``, every component is checkpointed once more
    at the end, untimed, for the state's size (``state_bytes_*``; without, those are 0).
    ``codec``: the handler's (a new one if not given: its schemas parsed, ~5 ms, untimed)."""
    from streams.handler import MetricsHandler
    from streams.lab.message import Message
    from streams.runtime.checkpoint import CheckpointedPipeline, CheckpointPolicy
    from streams.runtime.worker import pipeline_config

    poll = poll or max(1, settings.worker_batch)
    tune_gc(settings.worker_gc_gen0)  # as the worker process's (streams/runtime/gctune.py)
    pipe = CheckpointedPipeline(pipeline_config(settings), settings.topic("metrics"),
                                CheckpointPolicy.from_settings(settings))
    handler = MetricsHandler(pipe, codec or Codec(), settings.topic, wall_clock_ms=lambda: 0)
    ckpt_s, sizes = 0.0, []
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(batches), poll):
        due: dict[str, None] = {}
        if poll == 1:
            pipe.at(0, i)
            handler.handle(batches[i][1], batches[i][0], "metrics", 0, i)
            due = dict.fromkeys(pipe.due())
        else:
            msgs = [Message(v, k, "metrics", 0, i + j, 0)
                    for j, (k, v, _) in enumerate(batches[i:i + poll])]
            handler.handle_batch(msgs, pipe.at, functools.partial(_due_into, due, pipe))
        if due:
            t1 = time.perf_counter()
            made = (pipe.checkpoints(due, 0) if poll > 1  # one round, as step_batch (s31)
                    else [pipe.checkpoint(c, now_ms=0) for c in due])
            sizes += [len(got[1]) for got in made if got]
            ckpt_s += time.perf_counter() - t1
    total_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    last = sorted(len(got[1]) for c in pipe.components() if (got := pipe.checkpoint(c, 0))
                  ) if closing else [0]
    n = sum(b[2] for b in batches)
    return {"inproc_samples_s": n / total_s, "inproc_samples_cpu_s": n / cpu_s,
            "checkpoint_share": ckpt_s / total_s,
            "checkpoints_per_1k_samples": 1000 * len(sizes) / n,
            "state_bytes_median": float(last[len(last) // 2]), "state_bytes_max": float(last[-1])}


def _due_into(due: dict[str, None], pipe: Any) -> None:
    due.update(dict.fromkeys(pipe.due()))


def inproc_sides(n: int, runs: int, polls: list[int]) -> None:
    """``inproc`` with each poll size in ``polls``, ``runs`` times alternately on the same
    data; the median CPU µs per sample of each, and their ratios to the first."""
    from streams.bench.throughput import encode_batches
    from streams.sim.examples import fleet_samples

    settings = Settings.load(env={})
    batches = encode_batches(Codec(), fleet_samples(n))
    got: dict[int, list[dict[str, float]]] = {p: [] for p in polls}
    for _ in range(runs):
        for p in polls:
            got[p].append(inproc(settings, batches, p))
    first = statistics.median(1e6 / r["inproc_samples_cpu_s"] for r in got[polls[0]])
    for p in polls:
        us = [1e6 / r["inproc_samples_cpu_s"] for r in got[p]]
        ck = statistics.median(r["checkpoint_share"] for r in got[p])
        print(f"poll {p or settings.worker_batch:4d}: {statistics.median(us):6.1f} µs of CPU "
              f"per sample (runs {', '.join(f'{x:.1f}' for x in us)}; checkpoints "
              f"{100 * ck:.1f} %); {first / statistics.median(us):.2f}x the first")
