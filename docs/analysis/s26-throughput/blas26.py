"""s26 (hT): the worker's in-process CPU per sample with and without OpenBLAS's helper thread.

Each run is a fresh process (``OPENBLAS_NUM_THREADS`` is read when numpy loads): it makes the
contract bench's data (12,000 samples, 50 components, polls of ``worker_batch``), runs
``streams.bench.inproc.inproc`` ``PASSES`` times (the first warms) and prints one JSON line:
samples per CPU-second (``process_time``: every thread of the process, the helper's spinning
included), per wall second, and the CPU ticks of each thread (``/proc/self/task``).

    python docs/analysis/s26-throughput/blas26.py run [PASSES]          # one run, this env
    python docs/analysis/s26-throughput/blas26.py pairs N [PASSES]      # N interleaved pairs
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys


def _ticks() -> dict[str, int]:
    out = {}
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out[tid] = int(fields[11]) + int(fields[12])  # utime + stime
    return out


def run(passes: int) -> None:
    from schemas.codec import Codec
    from streams.bench.inproc import inproc
    from streams.bench.throughput import encode_batches
    from streams.settings import Settings
    from streams.sim.examples import fleet_samples

    s = Settings.load(env={})
    batches = encode_batches(Codec(), fleet_samples(12_000))
    got = []
    t0 = _ticks()
    for _ in range(passes):
        got.append(inproc(s, batches, 0, closing=False))
    t1 = _ticks()
    main = str(os.getpid())
    cpu = [r["inproc_samples_cpu_s"] for r in got[1:]]
    wall = [r["inproc_samples_s"] for r in got[1:]]
    print(json.dumps({"blas": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
                      "cpu_s_median": statistics.median(cpu), "cpu_s": cpu,
                      "wall_s_median": statistics.median(wall),
                      "threads": len(t1), "main_ticks": t1[main] - t0.get(main, 0),
                      "other_ticks": sum(v - t0.get(k, 0) for k, v in t1.items() if k != main),
                      "load": open("/proc/loadavg").read().split()[0]}), flush=True)


def pairs(n: int, passes: int) -> None:
    rows = []
    for i in range(n):
        order = ("1", "default") if i % 2 == 0 else ("default", "1")
        for blas in order:
            env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
            if blas == "1":
                env["OPENBLAS_NUM_THREADS"] = "1"
            out = subprocess.run([sys.executable, __file__, "run", str(passes)], env=env,
                                 capture_output=True, text=True, check=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(out.strip(), flush=True)
    for blas in ("default", "1"):
        xs = [r["cpu_s_median"] for r in rows if r["blas"] == blas]
        print(f"{blas}: median {statistics.median(xs):,.0f} samples per CPU-s over {len(xs)} runs")


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(int(sys.argv[2]) if len(sys.argv) > 2 else 4)
    else:
        pairs(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 4)
