"""The worker's two-tier state at many components: ``python -m streams.bench.tiering``.

A worker holds at most ``max_components`` live states. Past that, the least recently seen is
checkpointed, dropped, and its framed, compressed checkpoint kept in memory ("parked", up to
``park_bytes``); a parked component seen again is restored from it, with outputs exactly as if
it had never been evicted (:meth:`CheckpointedPipeline.evict_parked`, ``enter``; the very code
the worker runs after each message or poll).

``rss`` (one fresh process): ``--components`` components of 12 metrics, each restored from one
warm checkpoint and fed one more sample, as :mod:`streams.bench.memory` builds them, with the
worker's eviction after each: ``--cap`` live at the end, the rest parked. Reports the process's
RSS (``rss_after_mb``: the states; ``rss_checkpointed_mb``: once every live component holds its
last checkpoint too, as right after a periodic checkpoint), the live and parked counts and the
parked bytes, and ``live_bytes_per_state``: (RSS growth - parked bytes) / live states.

``cpu``: CPU per sample of one feed through the uncapped pipeline and through the tiered one,
each in its own fresh process, in interleaved pairs (``--repeats``), medians and their ratio.
Each component is restored warm first (the tiered one evicting as it goes), then the feed:

* ``round_robin``: every component ships every 10 s, in turn: with ``cap`` < components, every
  sample is of a parked component (an unpark, and an eviction to make room): the worst case;
* ``skewed``: ``--hot`` of the components ship every 10 s, the rest each every ``--slow`` ticks
  of 10 s: the hot stay live, the slow ones are parked between their samples.

Every sample's outputs (health, risk, rejections) are hashed in order; the bench says whether the
digests of the two pipelines are equal (they must be: ``identical``). ``--poll N`` feeds both
in polls of N messages (``admit`` each, ``judge_each``, then the eviction), as the batch worker
does; the digests must equal the per-message ones.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import psutil

from streams.bench.memory import restore_many, warm_tail

WARM_S = 3600
PARK_MB = 1024


def fill(pipe: Any, snapshot: bytes, first: dict[str, Any], count: int) -> None:
    """``count`` warm components, each restored and fed ``first``, then the worker's eviction."""
    for i in range(count):
        restore_many(pipe, snapshot, first, 1, start=i)
        pipe.evict_parked()


def child_rss(count: int, cap: int, park_mb: int = PARK_MB) -> dict[str, Any]:
    """In this process: ``count`` components through a worker capped at ``cap`` live states."""
    pipe, snapshot, tail, framed = warm_tail(WARM_S, 1, max_components=cap,
                                             park_bytes=park_mb << 20)
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    t0 = time.process_time()
    fill(pipe, snapshot, tail[0], count)
    cpu_s = time.process_time() - t0
    gc.collect()
    rss1 = proc.memory_info().rss
    live = len(pipe.components())
    for comp in list(pipe.components()):
        pipe.checkpoint(comp, now_ms=0)
    gc.collect()
    rss2 = proc.memory_info().rss
    return {"components": count, "cap": cap, "park_mb": park_mb, "live": live,
            "parked": len(pipe.parked), "dropped": pipe.unpark_failed,
            "parked_mb": pipe.parked_size / 2**20,
            "parked_bytes_per_component": pipe.parked_size / max(1, len(pipe.parked)),
            "rss_before_mb": rss0 / 2**20, "rss_after_mb": rss1 / 2**20,
            "rss_checkpointed_mb": rss2 / 2**20,
            "rss_per_component_bytes": (rss1 - rss0) / count,
            "live_bytes_per_state": (rss1 - rss0 - pipe.parked_size) / max(1, live),
            "state_bytes_per_component": framed,
            "fill_ms_per_component": 1000 * cpu_s / count}


def feed(pattern: str, count: int, rounds: int, hot: float,
         slow: int) -> Iterator[tuple[int, int]]:
    """``(component, its sample number from 1)`` in the order the worker reads them."""
    seen = [0] * count
    n_hot = int(hot * count) if pattern == "skewed" else count
    for tick in range(rounds):
        for i in range(count):
            if i < n_hot or (i - n_hot) % slow == tick % slow:
                seen[i] += 1
                yield i, seen[i]


def child_cpu(mode: str, pattern: str, count: int, cap: int, rounds: int, hot: float,
              slow: int, park_mb: int = PARK_MB, poll: int = 1) -> dict[str, Any]:
    """In this process: the feed through one pipeline (``uncapped`` or ``tiered``), a
    message at a time (``poll`` 1) or in polls of ``poll`` as the batch worker runs them."""
    limit = cap if mode == "tiered" else 0
    pipe, snapshot, tail, _ = warm_tail(WARM_S, rounds + 1, max_components=limit,
                                        park_bytes=park_mb << 20)
    fill(pipe, snapshot, tail[0], count)
    order = list(feed(pattern, count, rounds, hot, slow))
    unparked0, digest, outputs = pipe.unparked, hashlib.sha256(), 0
    gc.collect()
    t0 = time.process_time()
    for start in range(0, len(order), poll):
        for out in run_poll(pipe, tail, order[start:start + poll], count + 1 + start):
            digest.update(json.dumps([out.health, out.risk, out.rejected], sort_keys=True,
                                     default=repr).encode())
            outputs += len(out.health) + len(out.risk)
    cpu_s = time.process_time() - t0
    return {"mode": mode, "pattern": pattern, "components": count, "cap": limit,
            "poll": poll, "samples": len(order), "outputs": outputs,
            "digest": digest.hexdigest(), "unparked": pipe.unparked - unparked0,
            "dropped": pipe.unpark_failed, "cpu_us_per_sample": 1e6 * cpu_s / len(order)}


def run_poll(pipe: Any, tail: list[Any], poll: list[tuple[int, int]], offset: int) -> list[Any]:
    """One poll's samples (a message each, from ``offset``), then the worker's eviction:
    each sample's Output."""
    samples = [{**tail[k], "component": f"c{i:06d}", "host": f"c{i:06d}"} for i, k in poll]
    if len(samples) == 1:
        pipe.at(0, offset)
        outs = [pipe.ingest(samples[0])]
    else:
        admitted = []
        for n, s in enumerate(samples):
            pipe.at(0, offset + n)
            admitted.append(pipe.admit(s))
        outs = pipe.judge_each(admitted)
    pipe.evict_parked(scan_every=max(1, 1000 // len(samples)))
    return outs


def run_child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "streams.bench.tiering", *args],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"tiering child {args} failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench_cpu(a: argparse.Namespace) -> dict[str, Any]:
    """Interleaved uncapped/tiered pairs per pattern: medians, ratio, identity."""
    report: dict[str, Any] = {"components": a.components, "cap": a.cap, "poll": a.poll}
    for pattern in a.patterns:
        rounds = a.rounds if pattern == "round_robin" else a.ticks
        runs: dict[str, list[dict[str, Any]]] = {"uncapped": [], "tiered": []}
        for r in range(a.repeats):
            for mode in (("uncapped", "tiered") if r % 2 == 0 else ("tiered", "uncapped")):
                runs[mode].append(run_child(
                    ["child-cpu", mode, pattern, str(a.components), str(a.cap), str(rounds),
                     str(a.hot), str(a.slow), str(a.poll)]))
        base = statistics.median(x["cpu_us_per_sample"] for x in runs["uncapped"])
        tier = statistics.median(x["cpu_us_per_sample"] for x in runs["tiered"])
        t0 = runs["tiered"][0]
        report[pattern] = {
            "samples": t0["samples"], "outputs": t0["outputs"],
            "unparked_share": t0["unparked"] / t0["samples"], "dropped": t0["dropped"],
            "uncapped_cpu_us_per_sample": base, "tiered_cpu_us_per_sample": tier,
            "ratio": tier / base,
            "us_per_unpark": (tier - base) * t0["samples"] / max(1, t0["unparked"]),
            "identical": len({x["digest"] for v in runs.values() for x in v}) == 1,
            "pairs": [[u["cpu_us_per_sample"], t["cpu_us_per_sample"]]
                      for u, t in zip(runs["uncapped"], runs["tiered"], strict=True)]}
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.bench.tiering")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rss", help="worker RSS with the tiering (one process)")
    r.add_argument("--components", type=int, default=100_000)
    r.add_argument("--cap", type=int, default=20_000)
    r.add_argument("--park-mb", type=int, default=PARK_MB)
    c = sub.add_parser("cpu", help="CPU per sample, uncapped against tiered, and identity")
    c.add_argument("--components", type=int, default=5_000)
    c.add_argument("--cap", type=int, default=1_000)
    c.add_argument("--patterns", nargs="*", default=["round_robin", "skewed"],
                   choices=["round_robin", "skewed"])
    c.add_argument("--rounds", type=int, default=2, help="round_robin: samples per component")
    c.add_argument("--ticks", type=int, default=30, help="skewed: ticks of 10 s")
    c.add_argument("--hot", type=float, default=0.1, help="skewed: share shipping every tick")
    c.add_argument("--slow", type=int, default=30, help="skewed: the others' ticks apart")
    c.add_argument("--repeats", type=int, default=3)
    c.add_argument("--poll", type=int, default=1, help="messages a poll (the batch worker's)")
    cc = sub.add_parser("child-cpu")
    for name in ("mode", "pattern", "components", "cap", "rounds", "hot", "slow", "poll"):
        cc.add_argument(name)
    a = p.parse_args(argv)
    if a.cmd == "rss":
        out = child_rss(a.components, a.cap, a.park_mb)
    elif a.cmd == "child-cpu":
        out = child_cpu(a.mode, a.pattern, int(a.components), int(a.cap), int(a.rounds),
                        float(a.hot), int(a.slow), poll=int(a.poll))
    else:
        out = bench_cpu(a)
    print(json.dumps(out, indent=None if a.cmd == "child-cpu" else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
