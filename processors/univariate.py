"""Univariate novelty: how new is what one metric does now, in [0, 1].

Built for NAB-like series (one value per window) and used per metric by the pipeline. Two
channels, both learnt online from the stream itself (no file minimum/maximum, no file length):

* **context novelty** (after CAD OSE's idea, implemented afresh): the value is cut into
  ``bins`` equal-width levels over the range seen in the first ``warm`` values, widened by
  ``margin`` on each side (values beyond get levels of their own, one per bin width). The
  contexts ending at this value (the level alone, and with the 1..``order`` levels before it)
  are looked up in a hashed set of ``2**bits`` slots (:mod:`processors.seenset`: compact while
  few are marked, then a bitmap); the score is the fraction of them never
  seen before. A new level, or a known level in a new order, is novel once; repeated
  behaviour stops being novel as soon as it has been seen. With ``coarse`` > 0 the same
  contexts are also taken at a second, coarser resolution (levels ``// coarse``: each coarse
  level ``coarse`` bin widths wide), and the score is the fraction new over both; a noisy
  series that keeps finding new fine sequences inside known coarse ones then scores at most
  one half (issue #15, s16: ``docs/modelling.md``, "NAB round six"; since s18 the coarse
  contexts have a seen set of their own, so the fine ones are exactly those of ``coarse`` 0).
* **seasonal surprise**: when :mod:`processors.season` finds a season of ``P`` values, the
  seasonal-naive prediction (the value ``P`` back, shifted by the change of the local mean)
  has a residual whose rarity is judged against the last ``tail`` residuals (ranks inside
  their range, an exponential tail beyond it, in decimal orders of magnitude ``s``). It
  counts only while the seasonal prediction beats the local mean (an EW mean of absolute
  residuals, rate ``eta``), mapped to [0, 1] between ``s_lo`` and ``s_hi``. It sees what a
  short context cannot: a missing daily peak, a flat stretch where the day should move.

``raw = max(novelty, seasonal)``; 0 while cold (fewer than ``warm`` values).
:class:`Suppressor` turns a stream of raw scores into alarms worth reading: after a score
reaches ``alarm`` the next ones are scaled by ``(t - t_alarm) / rest``, recovering linearly
over ``rest`` values, so an onset scores high once instead of every value after it (with
``hold``, the pipeline's default since s19, the rest runs from the latest *raw* score that
reached ``alarm``, as CAD OSE's does).
:class:`NoveltyDetector` is the two together, for one float series (the contract of
:mod:`streams.lab.detectors`).

>>> d = NoveltyDetector(warm=20)
>>> scores = []
>>> for i in range(200):
...     x = 50.0 if i == 150 else float(i % 5)
...     scores.append(d.score_one(x))
...     d.learn_one(x)
>>> max(scores[21:150]) < 0.5, scores[150] == 1.0, max(scores[151:]) < 0.75
(True, True, True)
"""

from __future__ import annotations

import bisect
import functools
import math
from collections import deque
from collections.abc import Iterable
from typing import Any

from processors.nativeattr import mypyc_attr
from processors.noveltyview import NoveltyParams as NoveltyParams
from processors.noveltyview import NoveltyView
from processors.season import SeasonalHistory
from processors.seenset import empty, mark, unseen
from processors.sharedparams import pickled, shared

_LN10 = math.log(10.0)
_Q_LIMIT = 1 << 14  # levels are clipped to +/- this before hashing
_COARSE_SEED = 64  # the coarse resolution's contexts hash with orders 64.. (fine: 0..order)


@mypyc_attr(serializable=True)
class TailBuffer:
    """The last ``n`` values, sorted, to judge how rare a new one is (upper tail)."""

    def __init__(self, n: int = 256, min_count: int = 100) -> None:
        self.n = n
        self.min_count = min_count
        self.ring: deque[float] = deque()
        self._sorted: list[float] = []

    def surprise(self, v: float) -> float:
        """``-log10 P(X >= v)``: ranks inside the range held, an exponential tail beyond
        (its scale from the top tenth); 0 with fewer than ``min_count`` values."""
        srt = self._sorted
        k = len(srt)
        if k < self.min_count or not math.isfinite(v):
            return 0.0
        if v <= srt[-1]:
            ge = k - bisect.bisect_left(srt, v)
            return -math.log10((ge + 0.5) / (k + 1))
        cut = int(0.9 * k)
        top = srt[cut:]
        q = srt[cut]
        beta = max(sum(top) / len(top) - q, 1e-9 + 1e-6 * abs(q))
        return -math.log10(0.5 / (k + 1)) + (v - srt[-1]) / beta / _LN10

    def add(self, v: float) -> None:
        if not math.isfinite(v):
            return
        self.ring.append(v)
        bisect.insort(self._sorted, v)
        if len(self.ring) > self.n:
            old = self.ring.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def __getstate__(self) -> dict[str, Any]:
        return {"n": self.n, "min_count": self.min_count, "ring": list(self.ring)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.n, self.min_count = state["n"], state["min_count"]
        self.ring = deque(state["ring"])
        self._sorted = sorted(self.ring)


@functools.lru_cache(maxsize=1 << 14)  # a pure function of a few small ints: they repeat
def _hash(order: int, levels: tuple[int, ...], bits: int) -> int:
    """A context's slot in the bitset (explicit mixing: no dependence on ``hash()``)."""
    h = order + 1
    for v in levels:
        h = ((h * 0x9E3779B1) ^ (v & 0xFFFF)) & 0xFFFFFFFF
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    return (h ^ (h >> 15)) & ((1 << bits) - 1)


@functools.lru_cache(maxsize=1 << 14)  # levels repeat: one lookup instead of order + 1 (#14)
def _context_slots(prev: tuple[int, ...], q: int, order: int, bits: int, seed: int = 0
                   ) -> tuple[int, ...]:
    """The bitset slots of the contexts ending at level ``q`` after levels ``prev``
    (``seed`` > 0: another resolution's contexts, hashed apart).

    >>> _context_slots((1, 2), 3, 3, 13) == tuple(
    ...     _hash(k, (1, 2, 3)[3 - k - 1:], 13) for k in range(3))
    True
    """
    return tuple([
        _hash(k + seed, prev[len(prev) - k :] + (q,), bits)
        for k in range(order + 1)
        if len(prev) >= k
    ])


_LEVELS: dict[tuple[int, ...], tuple[int, ...]] = {}  # one tuple per context held (#14)
_LEVELS_LIMIT = 1 << 14


def interned_levels(levels: tuple[int, ...]) -> tuple[int, ...]:
    """The one object held for contexts equal to ``levels`` (a model's last levels, 64 bytes
    each: equal across metrics and components), live or restored; past ``_LEVELS_LIMIT``
    contexts, ``levels`` itself."""
    got = _LEVELS.get(levels)
    if got is None:
        if len(_LEVELS) >= _LEVELS_LIMIT:
            return levels
        got = _LEVELS[levels] = levels
    return got


@functools.lru_cache(maxsize=1 << 12)  # levels repeat: a lookup instead of a new tuple
def _next_levels(levels: tuple[int, ...], q: int, order: int) -> tuple[int, ...]:
    """The last ``order`` levels after ``q``, interned."""
    return interned_levels((levels + (q,))[-order:])


@mypyc_attr(serializable=True)
class ContextNovelty(NoveltyView):
    """Raw novelty of one metric's values (see the module doc); score, then learn. The
    parameters are read through ``p`` (:mod:`processors.sharedparams`)."""

    __slots__ = ("n", "lo", "hi", "levels", "seen", "hist", "resid", "recent", "err_local",
                 "err_season", "_changes", "seen_coarse")

    def __init__(self, **params: Any) -> None:
        p = self.p = shared(NoveltyParams(**params))
        if p.coarse < 0:
            raise ValueError("coarse must be >= 0 (0: one resolution)")
        self.n = 0
        self.lo = math.inf
        self.hi = -math.inf
        self.levels: tuple[int, ...] = ()
        self.seen = empty(p.bits)  # compact while few slots are marked (processors.seenset)
        # the coarse contexts' own set (s18: none of them takes a fine context's slot)
        self.seen_coarse: bytearray | None = empty(p.bits) if p.coarse else None
        seasonal = p.seasonal
        self.hist: SeasonalHistory | None = SeasonalHistory(p.history) if seasonal else None
        self.resid: TailBuffer | None = TailBuffer(p.tail, p.tail_min) if seasonal else None
        # float32-rounded, as the history; none without one (an empty deque is ~760 bytes, #14)
        self.recent: deque[float] | None = deque(maxlen=p.local) if seasonal else None
        self.err_local: float | None = None
        self.err_season: float | None = None
        self._changes = 0

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        return pickled(self)  # the parameters as fields, as format 2 wrote them

    @property
    def period(self) -> int | None:
        return self.hist.period if self.hist is not None else None

    def _level(self, x: float, lo: float, hi: float) -> int:
        p = self.p
        span = hi - lo
        if not span > 0:
            span = max(abs(hi), 1.0)
        width = span * (1.0 + 2.0 * p.margin) / p.bins
        u = (x - (lo - p.margin * span)) / width
        return int(math.floor(max(-_Q_LIMIT, min(_Q_LIMIT, u))))

    def _slots(self, q: int) -> tuple[int, ...]:
        """The bitset slots of the contexts ending at level ``q`` (and, with ``coarse``, of
        the same contexts at the coarse resolution)."""
        p = self.p
        fine = _context_slots(self.levels, q, p.order, p.bits)
        c = p.coarse
        if not c:
            return fine
        prev = tuple([v // c for v in self.levels])
        return fine + _context_slots(prev, q // c, p.order, p.bits, _COARSE_SEED)

    def _new(self, slots: tuple[int, ...], learn: bool = False) -> int:
        """How many of :meth:`_slots`' ``slots`` are new (with ``learn``, then marked): the
        fine ones in ``seen``, with ``coarse`` the second half in ``seen_coarse``."""
        bits, sc = self.p.bits, self.seen_coarse  # called by name: compiled, a native call
        if sc is None:
            return mark(self.seen, slots, bits) if learn else unseen(self.seen, slots, bits)
        h = len(slots) // 2
        if learn:
            return mark(self.seen, slots[:h], bits) + mark(sc, slots[h:], bits)
        return unseen(self.seen, slots[:h], bits) + unseen(sc, slots[h:], bits)

    def _novelty(self, slots: tuple[int, ...]) -> float:
        return self._new(slots) / len(slots)

    def _residuals(self, x: float) -> tuple[float, float | None]:
        """``(|x - local mean|, |x - seasonal-naive| or None)``; NaN local when too short."""
        h, local = self.hist, self.p.local
        if h is None or self.recent is None or len(self.recent) < local:
            return math.nan, None
        loc = sum(self.recent) / local
        p = h.period
        season = None
        if p is not None and len(h) >= p + local:
            base = h.ago(p) + (loc - h.mean_ago(p + 1, local))
            season = abs(x - base)
        return abs(x - loc), season

    def _seasonal_score(self, season: float | None) -> float:
        if season is None or self.resid is None:
            return 0.0
        if self.err_season is None or self.err_local is None:
            return 0.0
        if not self.err_season < self.err_local:
            return 0.0
        s, p = self.resid.surprise(season), self.p
        return min(1.0, max(0.0, (s - p.s_lo) / (p.s_hi - p.s_lo)))

    def score_one(self, x: float) -> float:
        """Raw novelty of ``x`` in [0, 1] (0 while cold or for a non-finite ``x``)."""
        if self.n < self.p.warm or not math.isfinite(x):
            return 0.0
        slots = self._slots(self._level(x, self.lo, self.hi))
        return max(self._novelty(slots), self._seasonal_score(self._residuals(x)[1]))

    def learn_one(self, x: float) -> None:
        self.step(x)
        return None

    def steps(self, x: float) -> tuple[float, float]:
        """:meth:`step`'s score and, beside it, the score at the fine resolution alone (the
        same without ``coarse``): what the pipeline's risk reads (issue #15, s18)."""
        p = self.p
        if not p.coarse or self.n < p.warm or not x - x == 0.0:  # not finite (native, s27)
            raw = self.step(x)
            return raw, raw
        fine = _context_slots(self.levels, self._level(x, self.lo, self.hi), p.order, p.bits)
        novel = unseen(self.seen, fine, p.bits) / len(fine)  # before ``step`` marks them
        season = self._seasonal_score(self._residuals(x)[1])
        return self.step(x), max(novel, season)

    def step(self, x: float) -> float:
        """``score_one(x)`` then ``learn_one(x)`` in one pass; returns the score."""
        if not x - x == 0.0:  # not finite: inf - inf and nan give nan (native compiled, s27)
            return 0.0
        p = self.p
        cold = self.n < p.warm
        if cold:  # the range is set by the first `warm` values
            self.lo, self.hi = min(self.lo, x), max(self.hi, x)
        q = self._level(x, self.lo, self.hi)
        slots = self._slots(q)
        local, season = self._residuals(x)
        new = self._new(slots, True)  # the slots not seen before, now marked
        raw = 0.0 if cold else max(new / len(slots), self._seasonal_score(season))
        self.levels = _next_levels(self.levels, q, p.order)
        h = self.hist
        if h is not None and self.resid is not None:
            if local - local == 0.0:  # finite
                e = self.err_local
                self.err_local = local if e is None else e + p.eta * (local - e)
            if season is not None:
                self.resid.add(season)
                e = self.err_season
                self.err_season = season if e is None else e + p.eta * (season - e)
            if h.push(x) and h.block == 1 and self.recent is not None:
                self.recent.append(h.ago(1))
            if h.changes != self._changes:  # a new season: its residuals start afresh
                self._changes = h.changes
                self.resid = TailBuffer(p.tail, p.tail_min)
                self.err_season = None
        self.n += 1
        return raw




@mypyc_attr(serializable=True)
class Suppressor:
    """Scales scores after an alarm (``score >= alarm``) by ``(t - t_alarm) / rest``. With
    ``hold`` the rest restarts at every *raw* score ``>= alarm``, the ones it scaled down
    included, so a stretch of repeated onsets stays quiet until ``rest`` values pass without
    one (issue #15, s19: ``docs/modelling.md``, "NAB round eight")."""

    hold = False  # a Suppressor pickled before s19 has none

    def __init__(self, rest: int = 150, alarm: float = 0.75, hold: bool = False) -> None:
        self.rest = rest
        self.alarm = alarm
        self.hold = hold
        self.t = 0
        self.t_alarm: int | None = None

    def score_one(self, raw: float) -> float:
        if self.t_alarm is None or self.rest <= 0:
            return raw
        return raw * min(1.0, (self.t - self.t_alarm) / self.rest)

    def learn_one(self, raw: float) -> None:
        self.step(raw)
        return None

    def step(self, raw: float) -> float:
        """``score_one(raw)`` then ``learn_one(raw)``; returns the score."""
        score = self.score_one(raw)
        if (raw if self.hold else score) >= self.alarm:
            self.t_alarm = self.t
        self.t += 1
        return score


class NoveltyDetector:
    """:class:`ContextNovelty` behind a :class:`Suppressor`, for one series of floats."""

    def __init__(self, rest: int = 150, alarm: float = 0.75, **novelty: Any) -> None:
        self.rest = rest
        self.alarm = alarm
        self.novelty = dict(novelty)
        self.model = ContextNovelty(**novelty)
        self.suppressor = Suppressor(rest, alarm)

    def score_one(self, x: float) -> float:
        return self.suppressor.score_one(self.model.score_one(x))

    def learn_one(self, x: float) -> None:
        self.step(x)
        return None

    def step(self, x: float) -> float:
        """``score_one(x)`` then ``learn_one(x)`` in one pass; returns the score."""
        return self.suppressor.step(self.model.step(x))


def run_novelty(values: Iterable[float], **params: Any) -> list[float]:
    """Scores of ``values`` in order, each scored before it is learnt."""
    d = NoveltyDetector(**params)
    return [d.step(float(x)) for x in values]
