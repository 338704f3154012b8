"""Where the contract line's worker spends its CPU (#14, s28; docs/throughput.md "(s28): the worker
path").

The same set-up as ``streams.bench.throughput.bench_worker``'s ``ours`` run (the embedded Tansu
broker, ``fleet_samples(n)`` pre-produced as 30-sample ``MetricBatch`` messages, one
``forewarn worker`` child with the default poll size), with the child observed while it works:

    split28.py pyspy OUT [--seconds S] [--rate HZ]
        py-spy (``record --format raw --threads``) attached from the first progress of the
        samples counter until it shows all; OUT/raw.txt (collapsed stacks), OUT/split.json
        (the stacks' shares by part, see PARTS; the worker's CPU seconds and samples)
    split28.py callgrind OUT [--seconds S]
        the child under ``valgrind --tool=callgrind --separate-threads=yes``, its counters zeroed
        at the first progress (``callgrind_control -z``) and dumped when all samples are counted
        (``-d``): OUT/cg.out.* (one file a thread), OUT/split.json (samples in the window)
    split28.py threads OUT [--seconds S]
        no profiler: each thread's CPU seconds (/proc/PID/task/*/stat, by thread name) over the
        same window, and the window's wall and process CPU
    split28.py parts OUT
        the py-spy split of OUT/raw.txt again (PARTS edited)

Run from the repository root with the worker's tree on PYTHONPATH; FOREWARN_PURE_PYTHON=1 for the
interpreted core. The CPU shares are py-spy's samples of each thread while it is not idle (the
GIL held by one thread at a time, so shares of the main thread and the consumer thread add up to
~the process's CPU); the instruction counts are Callgrind's, exact, for the window.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

# (part, frame substrings): a stack belongs to the first part one of whose substrings is in one
# of its frames, frames read from the innermost out (so "checkpoint" inside "handle_batch" is a
# checkpoint). py-spy frames read "function (path:line)".
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("checkpoint: snapshot + zlib", ("snapshot (processors/", "statewrite.py", "(zlib")),
    ("checkpoint: frame + bookkeeping", ("checkpoint (streams/runtime/checkpoint.py",
                                         "queue_checkpoint (", "framed (", "ckwire.py",
                                         "checkpoint_all (", "evict (", "evictable (")),
    ("decode (read_columns, samples)", ("batchwire.py", "samples (streams/handler.py",
                                        "samples (schemas/", "(fastavro")),
    ("pipeline: admit", ("admit (",)),
    ("pipeline: judge", ("judge_each (",)),
    ("encode outputs", ("_encode (streams/handler.py", "avrofast.py", "codec.py")),
    ("handler + worker bookkeeping", ("handle_batch (streams/handler.py", "step_batch (",
                                      "counted (", "due (streams/runtime/checkpoint.py",
                                      "after (streams/runtime/worker.py")),
    ("produce (Sink, outbox, delivery)", ("sink.py", "outbox.py", "confluent_kafka",
                                          "after_step (")),
    ("telemetry (prometheus)", ("prometheus_client",)),
    ("consume (aiokafka fetch, faust stream)", ("aiokafka", "faust/transport", "consumer.py",
                                                "faust/streams", "faust/channels", "mode/")),
    ("event loop, other", ("",)),
]


def part_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, keys in PARTS[:-1]:
            if any(k in frame for k in keys):
                return name
    return PARTS[-1][0]


def split(raw: Path) -> dict[str, object]:
    """py-spy's raw (collapsed) stacks by part: counts and shares, per thread too."""
    parts: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        parts[part_of(frames[1:])] += int(n)
        threads[frames[0]] += int(n)
    total = sum(parts.values()) or 1
    return {"stacks": total,
            "parts": {k: {"n": v, "share": round(v / total, 4)} for k, v in parts.most_common()},
            "threads": {k: round(v / total, 4) for k, v in threads.most_common()}}


def threads_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of each of the process's threads so far, summed by name."""
    tick = os.sysconf("SC_CLK_TCK")
    got: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        name = "main" if task.name == str(pid) else name
        got[name] = got.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return got


def _cpu(pid: int) -> float:
    import psutil

    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def run(mode: str, out: Path, seconds: float, rate: int) -> dict[str, object]:
    from schemas.codec import Codec
    from streams.bench.brokers import bench_broker
    from streams.bench.throughput import COMPONENTS, POINTS, _produce, encode_batches, samples
    from streams.bench.workerproc import WORKER_ARGV, WorkerChild, worker_env
    from streams.runtime.broker import free_port
    from streams.settings import Settings
    from streams.topics import ensure_topics

    n = max(1, round(seconds * 4000 / (COMPONENTS * POINTS))) * COMPONENTS * POINTS
    batches = encode_batches(Codec(), samples(n))
    tag = uuid.uuid4().hex[:8]
    argv = list(WORKER_ARGV)
    if mode == "callgrind":
        argv = ["valgrind", "--tool=callgrind", "--separate-threads=yes",
                f"--callgrind-out-file={out}/cg.out", *argv]
    got: dict[str, object] = {"mode": mode, "samples": n, "messages": len(batches),
                              "pure": os.environ.get("FOREWARN_PURE_PYTHON", "") == "1"}
    with tempfile.TemporaryDirectory() as tmp, bench_broker() as broker:
        s = Settings.load(env={}, bootstrap_servers=broker.bootstrap_servers,
                          replication_factor=broker.replication_factor,
                          topic_prefix=f"sp{tag}.", worker_group=f"sp-{tag}", data_dir=tmp)
        ensure_topics(s)
        _produce(s, s.topic("metrics"), [(k, v) for k, v, _ in batches])
        port = free_port()
        child = WorkerChild(argv, worker_env(s, tmp, port), port, out / "worker.log")
        pid = child.proc.pid
        spy = None
        deadline = time.monotonic() + (3000 if mode == "callgrind" else 300)
        try:
            first = None
            while time.monotonic() < deadline:
                if child.proc.poll() is not None:
                    raise RuntimeError(f"worker exited with {child.proc.returncode}")
                k = child.samples()
                if k and first is None:
                    if mode == "callgrind":
                        subprocess.run(["callgrind_control", "-z", str(pid)], check=True,
                                       capture_output=True)
                    elif mode == "pyspy":
                        spy = subprocess.Popen(
                            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                             str(pid), "--rate", str(rate), "--format", "raw", "--threads",
                             "--output", str(out / "raw.txt")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
                    first = (time.monotonic(), k, _cpu(pid))
                    per_thread = threads_cpu(pid)
                if first is not None and k is not None and k >= n:
                    if mode == "callgrind":
                        subprocess.run(["callgrind_control", "-d", str(pid)], check=True,
                                       capture_output=True)
                    elif spy is not None:
                        spy.send_signal(signal.SIGINT)
                        spy.wait(60)
                    now = threads_cpu(pid)
                    got["threads_cpu_s"] = {t: round(v - per_thread.get(t, 0.0), 2)
                                            for t, v in sorted(now.items(), key=lambda x: -x[1])
                                            if v - per_thread.get(t, 0.0) > 0}
                    got |= {"first_samples": first[1], "last_samples": k,
                            "window_samples": k - first[1],
                            "wall_s": round(time.monotonic() - first[0], 3),
                            "cpu_s": round(_cpu(pid) - first[2], 3)}
                    break
                time.sleep(2.0 if mode == "callgrind" else 0.05)
            else:
                raise RuntimeError("the worker did not finish in time")
        finally:
            if spy is not None and spy.poll() is None:
                spy.kill()
            child.stop()
    if mode == "pyspy":
        got |= split(out / "raw.txt")
    return got


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=("pyspy", "callgrind", "threads", "parts"))
    ap.add_argument("out", type=Path)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rate", type=int, default=500)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.mode == "parts":
        got = split(args.out / "raw.txt")
    else:
        got = run(args.mode, args.out.resolve(), args.seconds, args.rate)
    (args.out / "split.json").write_text(json.dumps(got, indent=1) + "\n")
    print(json.dumps(got, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
