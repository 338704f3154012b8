"""The peers' percentiles of several histograms at once (``actuators.peers.percentiles_rows``,
session 22): the same floats as each histogram's own ``percentiles``."""

from __future__ import annotations

import numpy as np

from actuators.peers import percentiles_rows
from actuators.sizerbase import DecayingHistogram


def test_rows_equal_each_histogram_bit_for_bit() -> None:
    rng = np.random.default_rng(22)
    hists = [DecayingHistogram(10.0, 1.05, 1e9, 86400) for _ in range(6)]
    ps = np.stack([np.array([0.5, 0.7, 0.8, 0.9, 0.95, 0.99]), np.full(6, 0.5),
                   np.full(6, 0.95)], axis=1)
    for step in range(600):
        ts = step * 300
        for i, h in enumerate(hists):
            if i == 5 and step < 300:
                continue  # one stays empty for a while: zeros
            v = float(rng.lognormal(8.0, 2.0))
            h.add(v, 1.0, ts)
            if rng.random() < 0.3:  # VPA's peak replaced: a weight taken back
                h.subtract(v, 1.0, ts)
            if rng.random() < 0.05:
                h.add(float(rng.lognormal(12.0, 1.0)), 1.0, ts + 86400 * 30)  # a rescale
        got = percentiles_rows(hists, ps)
        want = np.stack([h.percentiles(p) for h, p in zip(hists, ps, strict=True)])
        assert got.tobytes() == want.tobytes()
