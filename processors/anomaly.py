"""Window-level anomaly scores of a component, in [0, 1].

Two models behind the pipeline's ``anomaly_model`` setting:

* ``"novelty"`` (default) — :class:`ComponentNovelty`: one :class:`~processors.univariate.
  ContextNovelty` per metric on the window means, the component's raw score the largest of
  its metrics', then one :class:`~processors.univariate.Suppressor` per component (an onset
  scores high once, not on every window after it). It names the metric that scored highest.
* ``"hst"`` — :class:`AnomalyDetector`: River ``HalfSpaceTrees`` on features scaled online to
  [0, 1] (below), kept for comparison.

:class:`AnomalyDetector` follows River's conventions: score, then learn; :meth:`score_one`
never changes state; :meth:`learn_one` returns ``None``; the seed is explicit. It is small on
purpose (10 trees of height 6 by default) and pickles compactly: the trees are stored as flat
arrays, not as ~1,300 node objects, so one component's state stays around 15 KB.

Scaling: a running min/max per feature with a floor on the spread (a feature that has barely
moved yet does not turn noise into [0, 1]-wide swings). The range seen so far maps to
``[margin, 1 - margin]`` and values are clipped to [0, 1]: a value beyond anything seen then
lands where the trees hold almost no mass instead of on the clipped edge of normal data (with
``margin=0`` a window far outside the range scored like the most extreme normal one).

Normalisation: HalfSpaceTrees' raw score sits at a data-dependent baseline (often 0.6-0.8 on
perfectly normal data). The detector keeps an exponentially weighted mean ``mu`` and standard
deviation ``sd`` of the raw scores it has learnt, and reports
``anomaly = 1 / (1 + exp(-1.5 * (z - 3)))`` with ``z = (raw - mu) / max(sd, 0.02)``: about 0.01
for a typical window, 0.5 three deviations out, 0.99 at six. Until the trees hold a full
reference window and ``warmup`` scores have been seen, it is cold and scores 0.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from river import anomaly as river_anomaly
from river.tree.padded import PaddedBranch, PaddedLeaf

from processors.features import MetricFeatures
from processors.multivariate import JointDeviation
from processors.nativeattr import mypyc_attr
from processors.noveltyconfirm import ConfirmingSuppressor
from processors.univariate import ContextNovelty, Suppressor

if TYPE_CHECKING:
    from processors.config import PipelineConfig

_Leaf: Any = PaddedLeaf  # River's node classes are untyped
_Branch: Any = PaddedBranch

ANOMALY_FEATURES = ("mean", "volatility")  # trends are the forecaster's business


def anomaly_features(features: Mapping[str, MetricFeatures]) -> dict[str, float]:
    """The flat feature vector of one window: ``{"cpu.util:mean": ..., ...}``."""
    return {
        f"{metric}:{name}": float(getattr(f, name))
        for metric, f in features.items()
        for name in ANOMALY_FEATURES
    }


class WindowDetector(Protocol):
    """What the pipeline asks of a component's anomaly model: score one closed window's
    ``{metric: MetricFeatures}``, then learn it, in one call; the score in [0, 1]."""

    def step(self, features: Mapping[str, MetricFeatures]) -> float: ...


def detector_for(
    config: PipelineConfig, component: str
) -> AnomalyDetector | ComponentNovelty | JointDeviation:
    """A component's new detector, as ``config.anomaly_model`` names it; an HST's seed is the
    config's mixed with the component id, so it is stable across runs and workers."""
    c = config
    if c.anomaly_model == "joint":
        return JointDeviation(
            alpha=c.anomaly_joint_alpha, k=c.anomaly_joint_k, smooth=c.anomaly_joint_smooth,
            freeze=c.anomaly_joint_freeze, calibrate=c.anomaly_joint_calibrate,
        )
    if c.anomaly_model == "hst":
        seed = (c.seed ^ zlib.crc32(component.encode())) & 0x7FFFFFFF
        return AnomalyDetector(c.anomaly_trees, c.anomaly_height, c.anomaly_window, seed)
    return ComponentNovelty(
        c.anomaly_warm, c.anomaly_rest, seasonal_max_metrics=c.anomaly_seasonal_max_metrics,
        coarse=c.anomaly_coarse, hold=c.anomaly_hold, confirm=c.anomaly_confirm,
        floor=c.anomaly_confirm_floor,
    )


@mypyc_attr(serializable=True)
class ComponentNovelty:
    """Per-metric :class:`ContextNovelty` on window means, max over metrics, suppressed.

    The seasonal channel (a ring of ``history`` values per metric) is kept only for
    components with at most ``seasonal_max_metrics`` metrics, so that a host with forty
    metrics stays within its state budget; the context channel runs for every metric.
    """

    __slots__ = ("warm", "rest", "alarm", "seasonal_max_metrics", "history", "models",
                 "suppressor", "top", "coarse", "fine", "fine_suppressor", "hold", "confirm")

    def __init__(
        self,
        warm: int = 250,
        rest: int = 150,
        alarm: float = 0.75,
        seasonal_max_metrics: int = 2,
        history: int = 2048,
        coarse: int = 0,
        hold: bool = False,
        confirm: bool = False,
        floor: int = 0,
    ) -> None:
        self.coarse = coarse  # ContextNovelty's second resolution (0: off)
        # the record's suppressor holds its rest at every raw onset (s19) and, with ``confirm``,
        # has a partial onset confirmed (s23; by more than ``floor`` new contexts, s24: kept by
        # the suppressor); the risk reads ``fine``, suppressed as without
        self.hold = hold
        self.confirm = confirm and hold
        self.warm = warm
        self.rest = rest
        self.alarm = alarm
        self.seasonal_max_metrics = seasonal_max_metrics
        self.history = history
        self.models: dict[str, ContextNovelty] = {}
        self.suppressor: Suppressor = ConfirmingSuppressor(
            rest, alarm, rest, record=True, floor=floor) if self.confirm \
            else Suppressor(rest, alarm, hold)
        self.top: str | None = None  # the metric behind the latest score
        # With ``coarse`` or ``hold``: the latest window's score at the fine resolution alone,
        # suppressed on its own without ``hold``, for the risk (see :func:`risk_anomaly`);
        # unused without them.
        self.fine = 0.0
        self.fine_suppressor: Suppressor | None = None

    def _model(self, metric: str, n_metrics: int) -> ContextNovelty:
        m = self.models.get(metric)
        if m is None:
            seasonal = max(n_metrics, len(self.models) + 1) <= self.seasonal_max_metrics
            m = self.models[metric] = ContextNovelty(
                warm=self.warm, seasonal=seasonal, history=self.history, coarse=self.coarse
            )
        return m

    def score_one(self, features: Mapping[str, MetricFeatures]) -> float:
        """The window's anomaly in [0, 1]; changes nothing."""
        raw = 0.0
        for metric, f in features.items():
            m = self.models.get(metric)
            if m is not None:
                raw = max(raw, m.score_one(f.mean))
        return self.suppressor.score_one(raw)

    def learn_one(self, features: Mapping[str, MetricFeatures]) -> None:
        self.step(features)
        return None

    def step(self, features: Mapping[str, MetricFeatures]) -> float:
        """``score_one`` then ``learn_one`` in one pass; returns the score."""
        if self.coarse:
            return self._step_both(features)
        raw, top = 0.0, None
        n = len(features)
        for metric, f in features.items():
            r = self._model(metric, n).step(f.mean)
            if r > raw:
                raw, top = r, metric
        self.top = top
        if self.hold:  # the risk's score: the same raw, suppressed without ``hold``
            self.fine = self._fine_suppressor().step(raw)
        return self.suppressor.step(raw)

    def _fine_suppressor(self) -> Suppressor:
        """The suppressor of ``fine`` (new, or restored from a checkpoint without one)."""
        sup = self.fine_suppressor
        if sup is None:
            sup = self.fine_suppressor = Suppressor(self.rest, self.alarm)
        return sup

    def _step_both(self, features: Mapping[str, MetricFeatures]) -> float:
        """:meth:`step` with ``coarse``: the score over both resolutions, and beside it in
        ``fine`` the fine resolution's alone, suppressed by a suppressor of its own (never
        held): the score that ``coarse`` 0 without ``hold`` gives, exactly (the coarse
        contexts have a seen set of their own)."""
        raw, fine, top = 0.0, 0.0, None
        n = len(features)
        for metric, f in features.items():
            r, rf = self._model(metric, n).steps(f.mean)
            if r > raw:
                raw, top = r, metric
            fine = max(fine, rf)
        self.top = top
        self.fine = self._fine_suppressor().step(fine)
        return self.suppressor.step(raw)


def risk_anomaly(detector: object, score: float) -> float:
    """The anomaly evidence the risk reads for a window whose anomaly record is ``score``: a
    :class:`ComponentNovelty` with ``coarse`` gives its fine resolution's score, the one the
    risk's prior weight and calibration were set on (issue #15, s18: the coarse score's new
    rows at 1/2 cost the fleet's breach precision; ``docs/modelling.md``, "NAB round
    seven"), and with ``hold`` the score suppressed without it (s19, "NAB round eight"); any
    other detector, ``score`` itself."""
    if isinstance(detector, ComponentNovelty) and (detector.coarse or detector.hold):
        return detector.fine
    return score


@mypyc_attr(serializable=True)
class MinMaxScaler:
    """Running min/max per feature into ``[margin, 1 - margin]``, clipped to [0, 1].

    The spread is floored at ``max(floor_abs, floor_rel * |level|)``.
    """

    def __init__(
        self, floor_abs: float = 1e-6, floor_rel: float = 0.05, margin: float = 0.25
    ) -> None:
        self.floor_abs = floor_abs
        self.floor_rel = floor_rel
        self.margin = margin
        self.lo: dict[str, float] = {}
        self.hi: dict[str, float] = {}

    def learn_one(self, x: Mapping[str, float]) -> None:
        for k, v in x.items():
            if math.isfinite(v):
                if k in self.lo:
                    self.lo[k] = min(self.lo[k], v)
                    self.hi[k] = max(self.hi[k], v)
                else:
                    self.lo[k] = self.hi[k] = v

    def transform_one(self, x: Mapping[str, float]) -> dict[str, float]:
        out = {}
        for k, v in x.items():
            if k not in self.lo or not math.isfinite(v):
                out[k] = 0.5  # nothing known yet: the middle
                continue
            lo, hi = self.lo[k], self.hi[k]
            floor = max(self.floor_abs, self.floor_rel * max(abs(lo), abs(hi)))
            spread = hi - lo
            if spread < floor:
                lo -= (floor - spread) / 2
                spread = floor
            u = self.margin + (1.0 - 2.0 * self.margin) * (v - lo) / spread
            out[k] = min(1.0, max(0.0, u))
        return out


class AnomalyDetector:
    """HalfSpaceTrees behind an online min/max scaler, with a normalised 0..1 output."""

    def __init__(
        self,
        n_trees: int = 10,
        height: int = 6,
        window_size: int = 50,
        seed: int = 42,
        warmup: int = 10,
        alpha: float = 0.05,
    ) -> None:
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.seed = seed
        self.warmup = warmup
        self.alpha = alpha
        self.scaler = MinMaxScaler()
        self.hst: Any = river_anomaly.HalfSpaceTrees(  # River is untyped
            n_trees=n_trees, height=height, window_size=window_size, seed=seed
        )
        self.n_learnt = 0
        self.n_stats = 0  # raw scores folded into mu / var
        self.mu = 0.0
        self.var = 0.0

    @property
    def warm(self) -> bool:
        return not self.hst._first_window and self.n_stats >= self.warmup

    def _raw(self, x: Mapping[str, float]) -> float:
        return float(self.hst.score_one(self.scaler.transform_one(x)))

    def score_one(self, x: Mapping[str, float]) -> float:
        """Anomaly of ``x`` in 0..1 (0 while cold); changes nothing."""
        if not self.warm:
            return 0.0
        z = (self._raw(x) - self.mu) / max(math.sqrt(self.var), 0.02)
        return 1.0 / (1.0 + math.exp(-1.5 * (min(z, 50.0) - 3.0)))

    def step(self, features: Mapping[str, MetricFeatures]) -> float:
        """One window's features (:func:`anomaly_features`): score, then learn; the score."""
        x = anomaly_features(features)
        score = self.score_one(x)
        self.learn_one(x)
        return score

    def learn_one(self, x: Mapping[str, float]) -> None:
        if not self.hst._first_window:
            raw = self._raw(x)  # judged against the model as it was, as score_one did
            if self.n_stats == 0:
                self.mu, self.var = raw, 0.0
            else:
                diff = raw - self.mu
                incr = self.alpha * diff
                self.mu += incr
                self.var = (1 - self.alpha) * (self.var + diff * incr)
            self.n_stats += 1
        self.scaler.learn_one(x)
        self.hst.learn_one(self.scaler.transform_one(x))
        self.n_learnt += 1
        return None

    # -- compact pickling: trees as arrays ------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        hst = state.pop("hst")
        state["hst_blob"] = _encode_hst(hst) if hst.trees else None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        blob = state.pop("hst_blob")
        self.__dict__.update(state)
        self.hst = river_anomaly.HalfSpaceTrees(
            n_trees=self.n_trees, height=self.height, window_size=self.window_size, seed=self.seed
        )
        if blob is not None:
            _decode_hst(self.hst, blob)


def _encode_hst(hst: Any) -> bytes:
    """Trees in pre-order (perfect binary trees, so the shape is implied by the height)."""
    names = sorted(
        {n.feature for t in hst.trees for n in t.iter_dfs() if isinstance(n, PaddedBranch)}
    )
    index = {n: i for i, n in enumerate(names)}
    feats: list[int] = []
    thresholds: list[float] = []
    masses: list[int] = []
    for tree in hst.trees:
        for node in _preorder(tree):
            masses += (node.l_mass, node.r_mass)
            if isinstance(node, PaddedBranch):
                feats.append(index[node.feature])
                thresholds.append(node.threshold)
    header = "\x1f".join(names).encode() + b"\x00"
    body = (
        np.asarray([hst.counter, int(hst._first_window)], dtype="<i8").tobytes()
        + np.asarray(feats, dtype="<u2").tobytes()
        + np.asarray(thresholds, dtype="<f8").tobytes()
        + np.asarray(masses, dtype="<u4").tobytes()
    )
    return zlib.compress(header + body, 6)


def _decode_hst(hst: Any, blob: bytes) -> None:
    raw = zlib.decompress(blob)
    cut = raw.index(b"\x00")
    names = raw[:cut].decode().split("\x1f")
    body = raw[cut + 1 :]
    n_branch = hst.n_trees * (2**hst.height - 1)
    n_nodes = hst.n_trees * (2 ** (hst.height + 1) - 1)
    counter, first = np.frombuffer(body[:16], dtype="<i8").tolist()
    pos = 16
    feats = np.frombuffer(body[pos : pos + 2 * n_branch], dtype="<u2").tolist()
    pos += 2 * n_branch
    thresholds = np.frombuffer(body[pos : pos + 8 * n_branch], dtype="<f8").tolist()
    pos += 8 * n_branch
    masses = np.frombuffer(body[pos : pos + 8 * n_nodes], dtype="<u4").tolist()
    it_b = iter(zip(feats, thresholds, strict=True))
    it_m = iter(masses)

    def build(depth: int) -> Any:
        l_mass, r_mass = next(it_m), next(it_m)
        if depth == hst.height:
            return _Leaf(l_mass=l_mass, r_mass=r_mass)
        f, thr = next(it_b)
        left = build(depth + 1)
        right = build(depth + 1)
        return _Branch(left, right, names[f], thr, l_mass, r_mass)

    hst.trees = [build(0) for _ in range(hst.n_trees)]
    hst._tree_nodes = [list(t.iter_dfs()) for t in hst.trees]
    hst.counter = counter
    hst._first_window = bool(first)


def _preorder(node: Any) -> list[Any]:
    out = [node]
    if isinstance(node, PaddedBranch):
        out += _preorder(node.children[0])
        out += _preorder(node.children[1])
    return out
