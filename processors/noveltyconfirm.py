"""A partial onset confirmed before it alarms (issue #15, s21: ``docs/modelling.md``, "NAB
round ten"; the lab's ``--detector novelty-confirm`` grid; s23: with ``record``, round eleven).

:class:`ConfirmingSuppressor` is :class:`processors.univariate.Suppressor` (with ``hold``) and
one rule more. A *partial* onset (``alarm <= raw < 1``: with the context novelty, a transition
new, the level seen; three of four contexts new at ``order`` 3) that comes within ``quiet``
rests of the previous raw onset scores 0; its score waits ``confirm`` values for novelty the
onset does not imply itself (``d`` values later a raw score over ``(order - d) / (order + 1)``,
the share of contexts that still hold the new transition), and that value scores at least it;
unconfirmed, it is dropped. A new level (raw 1) alarms at once, as does a partial onset with no
raw onset before it or none within ``quiet`` rests. With ``record`` (s23, "NAB round eleven")
``quiet`` is the series' own: no confirmation when the gap since the previous raw onset is at
least the longest gap between two earlier ones (the longest silence so far; no value): the
pipeline's ``anomaly_confirm`` (:class:`processors.anomaly.ComponentNovelty` builds one with
``record`` and the rest as the horizon). With ``floor`` (s24, "NAB round twelve": the pipeline's
``anomaly_confirm_floor``, 1 by default) a confirmation needs more than ``floor`` of the
``order + 1`` contexts new as well (``floor`` 1: a raw 0.25, one new context of four, no
longer confirms).

>>> s = ConfirmingSuppressor(rest=10, confirm=10)
>>> lone = [round(s.step(r), 2) for r in [1.0] + [0.0] * 19 + [0.75, 0.5, 0.25, 0.0]]
>>> lone[0], lone[20:]
(1.0, [0.0, 0.05, 0.05, 0.0])
>>> s = ConfirmingSuppressor(rest=10, confirm=10)
>>> [round(s.step(r), 2) for r in [1.0] + [0.0] * 19 + [0.75, 0.75]][20:]
[0.0, 0.75]
>>> s = ConfirmingSuppressor(rest=10, confirm=10, record=True)
>>> [round(s.step(r), 2) for r in [1.0] + [0.0] * 29 + [0.75] + [0.0] * 19 + [0.75]][30::20]
[0.75, 0.0]
"""

from __future__ import annotations

from processors.nativeattr import mypyc_attr
from processors.univariate import Suppressor


@mypyc_attr(serializable=True)
class ConfirmingSuppressor(Suppressor):
    """:class:`~processors.univariate.Suppressor` with ``hold`` whose partial onsets wait for
    a confirmation (the module doc)."""

    floor = 0  # s24 (a state from before it decodes with 0)

    def __init__(self, rest: int = 150, alarm: float = 0.75, confirm: int = 150,
                 order: int = 3, quiet: float = 10.0, record: bool = False,
                 floor: int = 0) -> None:
        super().__init__(rest, alarm, hold=True)
        self.confirm = confirm
        self.order = order
        self.quiet = quiet
        self.record = record  # quiet: past the longest gap between earlier raw onsets
        self.gap_max = 0
        self.pending: float | None = None  # a partial onset's score, waiting since t_pending
        self.t_pending = 0
        self.floor = floor  # on every instance: a snapshot reads the schema's fields (s24)

    def _scaled(self, raw: float) -> float:
        return super().score_one(raw)

    def _waiting(self) -> float | None:
        """The partial onset's score still waiting for its confirmation, if any."""
        if self.pending is None or self.t - self.t_pending > self.confirm:
            return None
        return self.pending

    def _deferred(self, raw: float) -> bool:
        """Whether ``raw``, with nothing waiting, is a partial onset that must be confirmed."""
        if not self.alarm <= raw < 1.0 or self.t_alarm is None:
            return False
        if self.record:
            return self.t - self.t_alarm < self.gap_max
        return self.t - self.t_alarm < self.quiet * self.rest

    def _emit(self, raw: float, scaled: float) -> tuple[float, bool]:
        """``(score, confirms)``: the score let out, and whether ``raw`` confirms the onset
        waiting."""
        waiting = self._waiting()
        if waiting is not None:
            d = self.t - self.t_pending
            if raw > max(self.floor, self.order - d) / (self.order + 1):
                return max(scaled, waiting), True
            return scaled, False
        return (0.0 if self._deferred(raw) else scaled), False

    def score_one(self, raw: float) -> float:
        return self._emit(raw, self._scaled(raw))[0]

    def step(self, raw: float) -> float:
        """``score_one(raw)`` then ``learn_one(raw)``; returns the score."""
        t, ta = self.t, self.t_alarm
        if raw < self.alarm and (self.pending is None or t - self.t_pending > self.confirm):
            self.t = t + 1  # no onset, none waiting (most windows): the hold's score, inline
            return raw if ta is None or self.rest <= 0 else raw * min(1.0, (t - ta) / self.rest)
        return self._step(raw)

    def _step(self, raw: float) -> float:
        """:meth:`step` where ``raw`` is an onset or an onset waits for its confirmation."""
        scaled = self._scaled(raw)
        score, confirms = self._emit(raw, scaled)
        if confirms:
            self.pending = None
        elif self._waiting() is None and self._deferred(raw):
            self.pending, self.t_pending = scaled, self.t
        if raw >= self.alarm:  # hold: the rest restarts at every raw onset
            if self.t_alarm is not None:
                self.gap_max = max(self.gap_max, self.t - self.t_alarm)
            self.t_alarm = self.t
        self.t += 1
        return score
