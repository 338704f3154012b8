"""Round four trials on the joint model (run through smdx.py):
* per-metric weights from the probation: |z| / max(1, its 99th percentile over the first `prob`
  windows / the median of those percentiles) (`{"prob": 3000}`);
* a per-metric freeze: while the component is frozen, metrics with |z| < mz keep learning, the
  others do not (`{"mz": 2.0}`; off with mz = None)."""
import math, numpy as np
from processors.multivariate import JointDeviation
class Model(JointDeviation):
    def __init__(self, prob=10**9, q=0.99, mode="rel", mz=None, **kw):
        self.mz = mz
        super().__init__(**kw); self.prob=prob; self.q=q; self.mode=mode; self.buf=[]; self.w=None
    def _step(self, ii, x):
        mu, mad = self.mean[ii], self.mad[ii]
        lo = np.minimum(self.lo[ii], x); hi = np.maximum(self.hi[ii], x)
        r = x - mu
        scale = np.maximum(mad, self.floor * (hi - lo) + 1e-12)
        z = np.minimum(np.abs(r) / scale, self.clip)
        if self.w is None:
            if self.n >= self.warm: self.buf.append(z.copy())
            if self.n >= self.prob:
                qs = np.quantile(np.array(self.buf), self.q, axis=0)
                ref = np.median(qs[qs > 0]) if (qs > 0).any() else 1.0
                self.w = 1.0 / np.maximum(1.0, qs / ref) if self.mode == "rel" else 1.0/np.maximum(1.0, qs/3.0)
                self.buf = []
        if self.w is not None: z = z * self.w
        k = min(self.k, z.size)
        raw = float(np.partition(z, z.size - k)[z.size - k:].mean())
        self.joint += self.smooth * (raw - self.joint)
        s = self.joint
        if self.ref_mean is None: self.ref_mean, self.ref_dev = s, 0.0
        zn = (s - self.ref_mean) / max(self.ref_dev, 1e-3)
        d = s - self.ref_mean; n = self.n + 1
        b = max(self.norm_rate, 1.0 / n)
        self.ref_mean += b * d; self.ref_dev += b * (abs(d) - self.ref_dev)
        if not (self.freeze > 0 and self.n >= self.warm and zn > self.freeze): self.frozen = 0
        elif self.frozen >= 0: self.frozen = self.frozen + 1 if self.frozen < self.freeze_max else -1
        if self.frozen <= 0:
            a = max(self.alpha, 1.0 / n)
            self.mean[ii] = mu + a * r; self.mad[ii] = mad + a * (np.abs(r) - mad)
        elif self.mz is not None:
            a = max(self.alpha, 1.0 / n); ok = z < self.mz
            self.mean[ii] = np.where(ok, mu + a * r, mu); self.mad[ii] = np.where(ok, mad + a * (np.abs(r) - mad), mad)
        self.lo[ii], self.hi[ii] = lo, hi
        self.n += 1; self.last_z = zn
        if self.n <= self.warm: return 0.0
        return 1.0 - math.exp(-max(zn, 0.0) / self.scale)
