"""s25 (hT): C ``pow`` against numpy's ``power``, and the batch refit's squares.

1. ``x ** 2`` as Python computes it (C ``pow``) against numpy's ``power`` with an array exponent
   (what ``trendline.line_rows`` uses for the bits of ``line_at``'s ``**``) and against ``x * x``,
   on 1,000,000 doubles: on a CPU where numpy dispatches ``power`` to its AVX-512 (SVML) loop,
   it differs from C ``pow`` in a few per cent of them.
2. ``line_rows`` against ``line_at`` on floats (2,000 random lines x 5 horizons): the spreads
   that differ in their last bit.
3. ``batch.trend._squares`` (numpy ``power`` on an object array: Python's own ``**``) against
   ``map(math.pow, ...)`` (what it ran before s25), same 1,000,000 doubles.

    python docs/analysis/s25-throughput/powcheck.py
"""

from __future__ import annotations

import math

import numpy as np

from processors.batch.trend import _squares
from processors.trendline import Line, line_at, line_rows


def main() -> None:
    g = np.random.default_rng(1)
    r = g.standard_normal(10**6) * np.exp(g.uniform(-30, 30, 10**6))
    c = np.array([math.pow(x, 2.0) for x in r.tolist()])
    from numpy._core._multiarray_umath import __cpu_features__ as cpu

    print("numpy", np.__version__, "AVX512_SKX", cpu.get("AVX512_SKX"))
    print("power(x, full(2.0)) != pow:", int((np.power(r, np.full(r.shape, 2.0)) != c).sum()))
    print("x * x != pow:", int((r * r != c).sum()))
    print("_squares != pow:", int((_squares(r.reshape(1000, 1000)).ravel() != c).sum()))
    h = [60, 300, 600, 900, 1800]
    lines = [Line(*g.uniform(-5, 5, 2).tolist(), abs(float(g.normal())),
                  -float(g.uniform(100, 300)), float(g.uniform(1e4, 1e6)), 0.1,
                  float(g.uniform(0, 60)), 1.96) for _ in range(2000)]
    _, s, _, _ = line_rows(lines, h)
    bad = sum(line_at(ln, ln.offset + x)[1] != s[i, j]
              for i, ln in enumerate(lines) for j, x in enumerate(h))
    print(f"line_rows std != line_at std: {bad} of {len(lines) * len(h)}")


if __name__ == "__main__":
    main()
