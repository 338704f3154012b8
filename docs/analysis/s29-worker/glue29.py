"""Which interpreted functions run per sample in the worker's in-process work (#14, s29).

cProfile sees only interpreted frames (a compiled function has none), so over the compiled build
this lists exactly the interpreted glue: calls per sample and own CPU share, of one
``streams.bench.inproc`` pass (after a warm-up pass, as ``streams.bench.instructions --passes 2``).

    PYTHONPATH=. python docs/analysis/s29-worker/glue29.py [--samples 3000] [--top 40]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats


def main() -> None:
    from schemas.codec import Codec
    from streams.bench.inproc import inproc
    from streams.bench.throughput import encode_batches
    from streams.settings import Settings
    from streams.sim.examples import fleet_samples

    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args()
    settings, codec = Settings.load(env={}), Codec()
    batches = encode_batches(codec, fleet_samples(args.samples))
    n = sum(b[2] for b in batches)
    inproc(settings, batches, 0, codec=codec)  # warm-up
    prof = cProfile.Profile()
    prof.enable()
    inproc(settings, batches, 0, codec=codec)
    prof.disable()
    st = pstats.Stats(prof)
    rows = sorted(st.stats.items(), key=lambda kv: -kv[1][2])  # type: ignore[attr-defined]
    total = sum(v[2] for v in st.stats.values())  # type: ignore[attr-defined]
    print(f"{n} samples; interpreted own time {total:.3f} s")
    print(f"{'calls/sample':>12} {'own %':>6}  function")
    for (path, line, name), (_cc, nc, tt, _ct, _callers) in rows[:args.top]:
        print(f"{nc / n:12.3f} {100 * tt / total:6.1f}  {name} ({path.split('/work/')[-1]}:{line})")


if __name__ == "__main__":
    main()
