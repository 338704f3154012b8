"""The fixed schemas' encoders alone (#14, s29): the bench's RiskScore and HealthSignal records
(one in-process pass over ``--samples`` of ``fleet``, the records captured at ``Codec.encode``),
then ``--reps`` times each encoded by ``schemas.avrofast``; under Callgrind, run with ``--reps 0``
and ``--reps R``: the difference over R x records is the instructions an encode. Prints a
digest of the bytes (the same before and after a change).

    PYTHONPATH=. python docs/analysis/s29-worker/enc29.py [--samples 3000] [--reps 20]
"""

from __future__ import annotations

import argparse
import hashlib
from typing import Any


def main() -> None:
    from schemas import avrofast
    from schemas.codec import Codec
    from streams.bench.inproc import inproc
    from streams.bench.throughput import encode_batches
    from streams.settings import Settings
    from streams.sim.examples import fleet_samples

    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    got: list[tuple[str, Any]] = []

    class Capture(Codec):
        def encode(self, event_type: str, record: Any, *, topic: str = "") -> bytes:
            got.append((event_type, record))
            return super().encode(event_type, record, topic=topic)

    codec = Capture()
    inproc(Settings.load(env={}), encode_batches(Codec(), fleet_samples(args.samples)), 0,
           codec=codec)
    fns = {"RiskScore": avrofast.risk_score, "HealthSignal": avrofast.health_signal}
    recs = [(fns[t], r) for t, r in got if t in fns]
    h = hashlib.sha256()
    for fn, r in recs:
        h.update(fn(r))
    for _ in range(args.reps):
        for fn, r in recs:
            fn(r)
    print(f"{len(recs)} records ({sum(t == 'RiskScore' for t, _ in got)} RiskScore), "
          f"reps {args.reps}, digest {h.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
