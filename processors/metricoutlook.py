"""One rule metric's outlook: its forecaster, watched by a drift detector.

Before each window mean is learnt, the forecaster's one-step-ahead forecast for it gives a
standardised residual ``z = (value - mean) / std``. A Page-Hinkley test (River's, slotted:
:mod:`processors.pagehinkley`; mode "up", with a forgetting factor ``alpha`` so that noise
alone does not add up to a drift over a long run) watches their size ``min(|z|, 10)``. When
it fires (a lasting level shift, or a change of behaviour the forecaster has not caught up
with), the forecaster starts afresh from the point that showed the drift, so its trend
stops pointing along the old jump and its season is looked for again. ``threshold=0`` turns
drift detection off. It also keeps two EW means of the change
per window (fast and slow), to tell accelerating growth (an exponential leak) from a line, and
the troughs of a sawtooth (:class:`Troughs`), to tell fragmentation (memory that each
collection gives back less of) from a periodic sawtooth and from a line. Its
:class:`~processors.dayprofile.DayProfile` (``profile_bins`` bins of the day; 0: none) learns
the metric's time-of-day envelope, which :mod:`processors.outlook` caps breach forecasts at;
a value under it (where the metric usually is at this time of day: a morning ramp seen on
earlier days) is not fed to the drift test, so the ramp does not restart the forecaster.

>>> o = MetricOutlook("trend", step_s=60, threshold=10.0)
>>> for i in range(120):
...     o.learn_one(i * 60_000, (10.0 if i < 60 else 40.0) + 0.1 * ((i * 7) % 5 - 2))
>>> o.drifts >= 1
True
"""

from __future__ import annotations

from typing import Any, NamedTuple

from processors.dayprofile import DayProfile
from processors.forecast import Forecaster, TrendForecaster, make_forecaster
from processors.forecastrecord import MetricRecord
from processors.nativeattr import mypyc_attr
from processors.pagehinkley import PageHinkley
from processors.sharedparams import pickled, shared


class TroughParams(NamedTuple):
    """A :class:`Troughs`' constant parameters, one object per configuration (#14 s17:
    :mod:`processors.sharedparams`)."""

    keep: int = 6
    factor: float = 5.0
    rate: float = 0.05
    min_rise: float = 0.25
    max_age: int = 240


class OutlookParams(NamedTuple):
    """A :class:`MetricOutlook`'s, likewise."""

    kind: str = "seasonal"
    step_s: int = 60
    k: int = 10
    threshold: float = 15.0
    min_instances: int = 20
    alpha: float = 0.99


@mypyc_attr(serializable=True)
class Troughs:
    """The floor a sawtooth falls back to after each sharp drop (a GC, a compaction).

    A drop is a fall between consecutive window means of at least ``factor`` times the typical
    size of the other changes (an EW mean, rate ``rate``) and at least half of what the metric
    rose since the previous trough: a collection that gives back most of a cycle, not noise.
    The trough is the lowest value before the metric rises again. :meth:`climbing` says
    whether the last ``keep`` troughs, each within ``max_age`` windows of the next, rose one
    after the other by ``min_rise`` of the mean drop in all: the floor under the sawtooth
    climbs, which is fragmentation (or a leak hidden under collections), where a periodic
    sawtooth's troughs stay level and a line or a smooth season has no such drops.
    """

    __slots__ = ("p", "step", "drop", "peak", "falling", "at", "n")
    p: TroughParams

    def __init__(self, keep: int = 6, factor: float = 5.0, rate: float = 0.05,
                 min_rise: float = 0.25, max_age: int = 240) -> None:
        self.p = shared(TroughParams(keep, factor, rate, min_rise, max_age))
        self.step = 0.0  # EW mean of |change| over changes that are not drops
        self.drop = 0.0  # EW mean of drop sizes
        self.peak: float | None = None  # highest value since the latest trough
        self.falling = False
        self.at: list[tuple[int, float]] = []  # (window number, trough), oldest first
        self.n = 0

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        return pickled(self)  # the parameters as fields (no parameter tuple in a pickle)

    def learn_one(self, last: float | None, value: float) -> None:
        self.n += 1
        if last is None:
            self.peak = value
            return None
        d = value - last
        rose = self.peak - self.at[-1][1] if self.at and self.peak is not None else -d
        p = self.p
        if d < 0 and self.step > 0 and -d >= p.factor * self.step and -d >= 0.5 * rose:
            self.drop = -d if self.drop == 0 else self.drop + 0.2 * (-d - self.drop)
            self.at = [*self.at[1 - p.keep :], (self.n, value)]
            self.falling, self.peak = True, value
            return None
        if self.falling and self.at and value < self.at[-1][1]:
            self.at[-1] = (self.n, value)  # still falling: the trough is lower
        else:
            self.falling = False
        self.step += p.rate * (abs(d) - self.step) if self.step > 0 else abs(d)
        self.peak = value if self.peak is None else max(self.peak, value)
        return None

    def climbing(self) -> bool:
        at, p = self.at, self.p
        if len(at) < p.keep or self.n - at[-1][0] > p.max_age:
            return False
        for (n0, v0), (n1, v1) in zip(at, at[1:], strict=False):
            if n1 - n0 > p.max_age or not v1 > v0:
                return False
        return at[-1][1] - at[0][1] >= p.min_rise * self.drop

    # the parameters, read from ``p`` and set by replacing it with the shared copy
    # (processors.sharedparams; written out, not added by ``expose``: a mypyc class, s22)
    @property
    def keep(self) -> int:
        return self.p.keep

    @keep.setter
    def keep(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else TroughParams()
        self.p = shared(base._replace(keep=value))

    @property
    def factor(self) -> float:
        return self.p.factor

    @factor.setter
    def factor(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else TroughParams()
        self.p = shared(base._replace(factor=value))

    @property
    def rate(self) -> float:
        return self.p.rate

    @rate.setter
    def rate(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else TroughParams()
        self.p = shared(base._replace(rate=value))

    @property
    def min_rise(self) -> float:
        return self.p.min_rise

    @min_rise.setter
    def min_rise(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else TroughParams()
        self.p = shared(base._replace(min_rise=value))

    @property
    def max_age(self) -> int:
        return self.p.max_age

    @max_age.setter
    def max_age(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else TroughParams()
        self.p = shared(base._replace(max_age=value))


@mypyc_attr(serializable=True)
class MetricOutlook:
    """A forecaster of one metric's window means and a Page-Hinkley test on its residuals."""

    __slots__ = ("p", "forecaster", "detector", "drifts", "last", "slope_fast", "slope_slow",
                 "troughs", "profile", "n", "record")
    p: OutlookParams

    def __init__(
        self,
        kind: str = "seasonal",
        step_s: int = 60,
        k: int = 10,
        threshold: float = 15.0,
        min_instances: int = 20,
        alpha: float = 0.99,
        profile_bins: int = 48,
    ) -> None:
        self.p = shared(OutlookParams(kind, step_s, k, threshold, min_instances, alpha))
        self.forecaster: Forecaster = make_forecaster(kind, step_s, k)
        self.detector: PageHinkley | None = (
            PageHinkley(
                min_instances=min_instances, threshold=threshold, alpha=alpha, mode="up"
            )
            if threshold > 0
            else None
        )
        self.drifts = 0
        self.last: float | None = None
        self.slope_fast = 0.0  # EW means of the change between consecutive window means
        self.slope_slow = 0.0
        self.troughs = Troughs()
        self.profile: DayProfile | None = DayProfile(profile_bins) if profile_bins else None
        self.n = 0
        # its warnings' record (processors.forecastrecord; made where forecast_trust or
        # warn_trust is on, else None; in the snapshot where made, issue #15 s19)
        self.record: MetricRecord | None = None

    def __getstate__(self) -> dict[str, Any]:  # the parameters as fields, as before (#14)
        out = {**self.p._asdict(), **{n: getattr(self, n) for n in self.__slots__[1:-1]}}
        if self.record is not None:  # the breach records, where kept (issue #15, s19)
            out["record"] = self.record
        return out

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        if "troughs" not in state:  # a checkpoint from before troughs were kept
            self.troughs = Troughs()
        if "profile" not in state:  # nor a time-of-day profile: it starts empty
            self.profile = DayProfile()
        if "record" not in state:  # no breach records kept (processors.forecastrecord)
            self.record = None

    def learn_one(self, ts_ms: int, value: float, refit: bool = True) -> None:
        """Learn a window mean; ``refit=False``: a line forecaster's refit is left to the
        caller (the batch core refits a round's forecasters at once, bit for bit)."""
        if not value - value == 0.0:  # not finite (native compiled, s28)
            return None
        if self.detector is not None and not self._usual(ts_ms, value):
            expected = self._expected()
            if expected is not None and expected[1] > 0:
                z = (value - expected[0]) / expected[1]
                self.detector.update(min(10.0, abs(z)))
                if self.detector.drift_detected:
                    self._restart()
        if refit or not isinstance(self.forecaster, TrendForecaster):
            self.forecaster.learn_one(ts_ms, value)
        else:
            self.forecaster.learn_one(ts_ms, value, refit=False)
        if self.profile is not None:
            self.profile.learn_one(ts_ms, float(value))
        self.troughs.learn_one(self.last, float(value))
        if self.last is not None:
            d = value - self.last
            self.slope_fast += 0.2 * (d - self.slope_fast)
            self.slope_slow += 0.02 * (d - self.slope_slow)
        self.last = float(value)
        self.n += 1
        return None

    def _expected(self) -> tuple[float, float] | None:
        """The mean and spread of the forecaster's one-step forecast, if it has one."""
        fc = self.forecaster
        if isinstance(fc, TrendForecaster):  # compiled, a native call (#14 s25)
            return fc.expect(self.p.step_s)
        got = fc.forecast([self.p.step_s])
        return (got[0].mean, got[0].std) if got else None

    def _usual(self, ts_ms: int, value: float) -> bool:
        """Whether the value is within what the metric does at this time of day (its
        profile's ceiling now): a morning ramp seen on earlier days is not a change point."""
        return self.profile is not None and self.profile.ceiling(ts_ms, value, 0) is not None

    def accelerating(self, sign: float) -> bool:
        """Whether the metric grows (towards ``sign``) ever faster: the recent change per window
        is at least 1.5 times the long-run one, both positive (after 50 windows)."""
        fast, slow = sign * self.slope_fast, sign * self.slope_slow
        return self.n >= 50 and slow > 0 and fast >= 1.5 * slow

    def fragmented(self, sign: float) -> bool:
        """Whether the floor under a sawtooth climbs towards the threshold (upward metrics
        only: a memory floor that each collection lowers less), see :class:`Troughs`."""
        return sign > 0 and self.troughs.climbing()

    @property
    def period(self) -> int | None:
        """The season found in this metric, in windows (seasonal forecaster only)."""
        p = getattr(self.forecaster, "period_points", None)
        return p if isinstance(p, int) else None

    def _restart(self) -> None:
        """Start the forecaster afresh: it learns from the point that showed the drift on."""
        self.drifts += 1
        p = self.p
        self.forecaster = make_forecaster(p.kind, p.step_s, p.k)

    # the parameters, read from ``p`` and set by replacing it with the shared copy
    # (processors.sharedparams; written out, not added by ``expose``: a mypyc class, s22)
    @property
    def kind(self) -> str:
        return self.p.kind

    @kind.setter
    def kind(self, value: str) -> None:
        base = self.p if hasattr(self, "p") else OutlookParams()
        self.p = shared(base._replace(kind=value))

    @property
    def step_s(self) -> int:
        return self.p.step_s

    @step_s.setter
    def step_s(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else OutlookParams()
        self.p = shared(base._replace(step_s=value))

    @property
    def k(self) -> int:
        return self.p.k

    @k.setter
    def k(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else OutlookParams()
        self.p = shared(base._replace(k=value))

    @property
    def threshold(self) -> float:
        return self.p.threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else OutlookParams()
        self.p = shared(base._replace(threshold=value))

    @property
    def min_instances(self) -> int:
        return self.p.min_instances

    @min_instances.setter
    def min_instances(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else OutlookParams()
        self.p = shared(base._replace(min_instances=value))

    @property
    def alpha(self) -> float:
        return self.p.alpha

    @alpha.setter
    def alpha(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else OutlookParams()
        self.p = shared(base._replace(alpha=value))
