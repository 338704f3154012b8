"""Joint deviation of one component's metrics: a multivariate anomaly score in [0, 1].

The per-metric detectors (:mod:`processors.univariate`) judge each metric alone, and a
component's score is the largest of them. On a host with dozens of metrics that misses what
matters most there: several metrics moving off their usual level *together*, each by an amount
that alone is unremarkable. :class:`JointDeviation` scores that, streaming, in O(metrics) state:

1. **Robust per-metric deviation.** For each metric, the residual from a slow exponentially
   weighted mean (rate ``alpha``; ``1/n`` over the first ``n < 1/alpha`` windows, so the
   start is a plain average), divided by a slow EW mean absolute residual (the same rate;
   a robust scale: one outlier moves it by ``alpha`` of its size, not by its square). The scale
   is floored at ``floor`` of the range the metric has covered, so a metric that was constant
   and starts to move reads as far out (``|z|`` is clipped at ``clip``).
2. **Joint score.** The mean of the ``k`` largest ``|z|``: with ``k > 1`` one noisy metric
   alone does not make the component anomalous, ``k`` metrics off together do (a diagonal
   robust Mahalanobis distance restricted to its ``k`` largest terms; a full covariance was
   tried, see ``docs/modelling.md``: more state, no better). The default ``k = 1``, the
   largest robust deviation, is what tuning on either SMD machine chose.
3. **Smoothing.** An EW mean of that score (rate ``smooth``): a server incident lasts minutes,
   and point-wise scoring rewards a score that stays up while it lasts.
4. **No learning from what it flags.** While the component's score stands more than
   ``freeze`` typical deviations above its usual level (the z of step 5 before the mapping),
   the per-metric means and scales are not updated: an incident that lasts hours is not
   learnt as the new normal while it lasts (the score's own reference keeps learning, so a
   lasting change of level is accepted once that reference has moved, and after
   ``freeze_max`` windows in a row the metrics learn again until the score has fallen). ``freeze=0``
   learns every window (the model before issue #15's second round).
5. **Each metric's deviation in units of its own extremes** (round four of #15; on when
   ``calibrate > 0``). Over the first ``calibrate`` windows (after ``warm``) each metric keeps
   its largest unclipped ``|z|`` values, enough to read their ``calibrate_q`` quantile. Then
   its weight is fixed at ``1 / max(1, q_j / median_j q_j)``: a metric whose normal running
   holds spikes far above the others' (a mostly-zero counter, a bursty queue) has its ``|z|``
   scaled down by that much *before* the clip, so its usual spikes no longer pin the score
   at ``clip`` and a spike well above its own usual ones still stands out. No metric is
   scaled up; a metric first seen after the calibration keeps weight 1.
6. **Likelihood scale.** The smoothed score is compared with its own history: its z against a
   slow EW mean and EW mean absolute deviation of itself (rate ``norm_rate``), so a threshold
   reads "this many typical deviations above this component's usual joint deviation", the same
   on every component. ``anomaly = 1 - exp(-max(z, 0) / scale)``: 0.63 at ``z = scale``.

Scores are 0 until ``warm`` windows have been seen. :meth:`step` takes the window's
``{metric: MetricFeatures}`` (it reads each metric's ``mean``), :meth:`step_values` a plain
``{metric: float}``; both score then learn. ``top`` names the metric with the largest ``|z|``.

State: five floats per metric plus a few scalars (about 1.6 KB for 38 metrics in a snapshot),
six with the calibration, and during the calibration only, ``(1 - calibrate_q) * calibrate``
floats per metric (29 for the defaults: 8.8 KB for 38 metrics).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from processors.nativeattr import mypyc_attr

__all__ = ["JointDeviation"]


@mypyc_attr(serializable=True)
class JointDeviation:
    """Per-component joint deviation (see the module doc); score, then learn, in one pass."""

    def __init__(
        self,
        alpha: float = 0.0001,
        k: int = 1,
        smooth: float = 0.1,
        norm_rate: float = 0.0003,
        floor: float = 0.01,
        clip: float = 10.0,
        scale: float = 4.0,
        warm: int = 100,
        freeze: float = 1.0,
        freeze_max: int = 1000,
        calibrate: int = 0,
        calibrate_q: float = 0.99,
    ) -> None:
        if not (0 < alpha < 1 and 0 < smooth <= 1 and 0 < norm_rate < 1):
            raise ValueError("alpha and norm_rate must be in (0, 1), smooth in (0, 1]")
        if k < 1 or floor <= 0 or clip <= 0 or scale <= 0 or warm < 0:
            raise ValueError("k >= 1; floor, clip and scale > 0; warm >= 0")
        if not (freeze >= 0 and math.isfinite(freeze)) or freeze_max < 0:
            raise ValueError("freeze must be a finite number >= 0, freeze_max >= 0")
        if calibrate < 0 or not 0 < calibrate_q < 1:
            raise ValueError("calibrate must be >= 0 (0: off), calibrate_q in (0, 1)")
        self.alpha = alpha
        self.k = k
        self.smooth = smooth
        self.norm_rate = norm_rate
        self.floor = floor
        self.clip = clip
        self.scale = scale
        self.warm = warm
        self.freeze = freeze
        self.freeze_max = freeze_max
        self.frozen = 0  # windows in a row the metrics have not learnt (-1: released)
        self.metrics: list[str] = []
        self.index: dict[str, int] = {}
        self.mean = np.zeros(0)
        self.mad = np.zeros(0)
        self.lo = np.zeros(0)
        self.hi = np.zeros(0)
        self.n = 0
        self.joint = 0.0  # the smoothed joint deviation
        self.ref_mean: float | None = None  # its own EW mean and mean absolute deviation
        self.ref_dev = 0.0
        self.top: str | None = None
        self.last_z = 0.0
        self.calibrate = calibrate
        self.calibrate_q = calibrate_q
        self.weight: np.ndarray | None = None  # per metric, once calibrated
        # during the calibration: each metric's largest |z| so far, one row per metric
        self.tops = np.zeros((0, self._keep()))

    def _grow(self, metric: str, x: float) -> int:
        i = self.index[metric] = len(self.metrics)
        self.metrics.append(metric)
        self.mean = np.append(self.mean, x)
        self.mad = np.append(self.mad, 0.0)
        self.lo = np.append(self.lo, x)
        self.hi = np.append(self.hi, x)
        if self.weight is not None:
            self.weight = np.append(self.weight, 1.0)
        elif self.calibrate > 0:
            self.tops = np.vstack([self.tops, np.zeros((1, self.tops.shape[1]))])
        return i

    def _keep(self) -> int:
        """How many of each metric's largest ``|z|`` the calibration keeps: its quantile."""
        return max(1, round((1.0 - self.calibrate_q) * max(self.calibrate - self.warm, 0)))

    def _calibrated(self, ii: np.ndarray, z: np.ndarray) -> np.ndarray:
        """``z`` (unclipped, metrics ``ii``) weighted; learns the weights over the first
        ``calibrate`` windows (see the module doc, step 5)."""
        if self.weight is None:
            if self.n >= self.calibrate:
                q = self.tops.min(axis=1)  # each metric's k-th largest |z|
                pos = q[q > 0]
                ref = float(np.median(pos)) if pos.size else 1.0
                self.weight = 1.0 / np.maximum(1.0, q / ref)
                self.tops = np.zeros((0, self.tops.shape[1]))
            elif self.n >= self.warm:  # each metric's smallest kept |z| gives way to a larger
                rows = self.tops[ii]
                j = rows.argmin(axis=1)
                up = z > rows[np.arange(ii.size), j]
                self.tops[ii[up], j[up]] = z[up]
        return z * self.weight[ii] if self.weight is not None else z

    def step(self, features: Mapping[str, Any]) -> float:
        """Score the window's metric means, then learn them; returns the anomaly."""
        return self.step_values({m: float(f.mean) for m, f in features.items()})

    def step_values(self, values: Mapping[str, float]) -> float:
        """Score ``{metric: value}``, then learn it; returns the anomaly in [0, 1]."""
        idx, x = [], []
        for m, v in values.items():
            if not math.isfinite(v):
                continue
            i = self.index.get(m)
            if i is None:
                i = self._grow(m, v)
            idx.append(i)
            x.append(v)
        if not idx:
            return 0.0
        ii = np.asarray(idx)
        return self._step(ii, np.asarray(x, dtype=np.float64))

    def step_array(self, x: np.ndarray) -> float:
        """:meth:`step_values` for a vector whose entry ``j`` is metric ``str(j)`` (the fast
        path of the backtests; the same arithmetic)."""
        if not self.metrics:
            for j, v in enumerate(x):
                self._grow(str(j), float(v))
        return self._step(np.arange(x.size), np.asarray(x, dtype=np.float64))

    def _step(self, ii: np.ndarray, x: np.ndarray) -> float:
        mu, mad = self.mean[ii], self.mad[ii]
        lo = np.minimum(self.lo[ii], x)
        hi = np.maximum(self.hi[ii], x)
        r = x - mu
        scale = np.maximum(mad, self.floor * (hi - lo) + 1e-12)
        if self.calibrate > 0:
            z = np.minimum(self._calibrated(ii, np.abs(r) / scale), self.clip)
        else:
            z = np.minimum(np.abs(r) / scale, self.clip)
        k = min(self.k, z.size)
        top = np.partition(z, z.size - k)[z.size - k :]
        raw = float(top.mean())
        j = int(np.argmax(z))
        self.top = self.metrics[int(ii[j])]
        self.joint += self.smooth * (raw - self.joint)
        s = self.joint
        if self.ref_mean is None:
            self.ref_mean, self.ref_dev = s, 0.0
        zn = (s - self.ref_mean) / max(self.ref_dev, 1e-3)
        d = s - self.ref_mean
        n = self.n + 1
        b = max(self.norm_rate, 1.0 / n)  # a plain average until 1/n falls below the rate
        self.ref_mean += b * d
        self.ref_dev += b * (abs(d) - self.ref_dev)
        if not (self.freeze > 0 and self.n >= self.warm and zn > self.freeze):
            self.frozen = 0
        elif self.frozen >= 0:  # -1: released after freeze_max, learning until the score falls
            self.frozen = self.frozen + 1 if self.frozen < self.freeze_max else -1
        if self.frozen <= 0:
            a = max(self.alpha, 1.0 / n)
            self.mean[ii] = mu + a * r
            self.mad[ii] = mad + a * (np.abs(r) - mad)
        self.lo[ii], self.hi[ii] = lo, hi
        self.n += 1
        self.last_z = zn
        if self.n <= self.warm:
            return 0.0
        return 1.0 - math.exp(-max(zn, 0.0) / self.scale)
