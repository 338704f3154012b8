"""s27 (hT): the calls of ``math.isfinite`` per sample of one ``inproc`` pass (interpreted; by
caller), over the bench's 3,000 ``fleet`` samples. math.isfinite is not a mypyc primitive, so a
compiled caller makes each a generic call (the float boxed, the module's attribute looked up).

    FOREWARN_PURE_PYTHON=1 PYTHONPATH=. python docs/analysis/s27-throughput/isfinite27.py
"""

from __future__ import annotations

import collections
import math
import sys
from typing import Any


def main() -> None:
    from schemas.codec import Codec
    from streams.bench.inproc import inproc
    from streams.bench.throughput import encode_batches
    from streams.settings import Settings
    from streams.sim.examples import fleet_samples

    calls: collections.Counter[tuple[str, str]] = collections.Counter()
    original = math.isfinite

    def counted(x: Any) -> bool:
        code = sys._getframe(1).f_code
        calls[(code.co_filename.rsplit("/", 1)[-1], code.co_name)] += 1
        return original(x)

    math.isfinite = counted
    batches = encode_batches(Codec(), fleet_samples(3000))
    inproc(Settings.load(env={}), batches, 0, closing=False)
    print(f"{sum(calls.values()) / 3000:.1f} calls per sample")
    for (path, name), n in calls.most_common(12):
        print(f"{n / 3000:6.2f}  {path}:{name}")


if __name__ == "__main__":
    main()
