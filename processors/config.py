"""The processing core's settings: :class:`PipelineConfig`, read once at the entry point.

Re-exported by :mod:`processors.pipeline`, its one user.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from processors.health import Rule, default_rules
from schemas.errors import ConfigError


@dataclass(frozen=True)
class PipelineConfig:
    """Everything the core needs, read once at the entry point."""

    window_s: int = 60
    lateness_s: int = 30
    horizon_s: int = 900
    # a HealthSignal repeats each rule's unchanged status this often (event time); 300 s, not
    # 60: heartbeats were 90 % of the worker's outputs, and changes are sent as they happen
    heartbeat_s: int = 300
    seed: int = 42
    model_version: str = "forewarn-0.1"
    rules: tuple[Rule, ...] = field(default_factory=default_rules)
    min_windows_warm: int = 5
    forecast_horizons_s: tuple[int, ...] = (60, 300, 900)
    forecaster: str = "seasonal"  # seasonal | trend | snarimax
    trend_windows: int = 10  # windows in the trend fit
    drift_threshold: float = 15.0  # Page-Hinkley on forecast residuals; 0 turns it off
    # bins of each rule metric's time-of-day profile (processors.dayprofile; 0 turns it off)
    day_profile_bins: int = 48
    learn_risk: bool = True  # learn the risk model from delayed labels (False: fixed priors)
    # what risk is the probability of: "onset", a new FAIL within horizon_s (a rule entering
    # FAIL after horizon_s out of it), or "fail", being FAIL at some time within it
    risk_target: str = "onset"
    risk_lr: float = 0.0  # SGD on the combiner's weights (0: they stay at their priors)
    risk_calibration: bool = True  # histogram-binning calibration of the combined risk
    # emit at least the previous window's risk decayed by the share of its horizon that has
    # passed (processors.calibration.held; issue #15, s13): False emits each window's own
    risk_hold: bool = True
    # scale the parents' context by the learnt share of their trouble that reaches the
    # component (RiskLearner.reach; issue #15, s14; off: it lost recall in `mixed`)
    context_reach: bool = False
    # scale each rule metric's breach probability by its record of forecasts that came true,
    # (k + this) / (n + this) (processors.forecastrecord; issue #15, s17; the default since s22,
    # with hover 2 and the alarm's own learner: the alarm's alone); 0: off
    forecast_trust: float = 2.0
    # weigh the warn evidence by the record of the WARN spells that went on to FAIL, with
    # this prior (processors.forecastrecord; issue #15, s17; the default since s20: the alarm's
    # alone, the allocators read RiskScore.act); 0: off
    warn_trust: float = 2.0
    # with forecast_trust / warn_trust: an episode during which the metric (1) or any rule
    # metric of the component (2) went over its FAIL threshold, its rule's FAIL or not, is no
    # miss (processors.forecastrecord; issue #15, s18; 2 the default since s22); 0: off
    hover: int = 2
    # the alarm's own learner (issue #15, s21; lean and the default since s22): each risk
    # model keeps an alarm head (calibration.AlarmHead) that learns the evidence as the
    # records weighed it and gives the alarm's risk; the learner learns it unweighed and gives
    # ``act`` (processors.actsignal); False: one learner
    alarm_learner: bool = True
    # the alarm's context scaled by the component's learnt reach (RiskLearner.reach, round six's
    # form); act, the network's state and what is learnt keep the parents' standing (s21)
    alarm_reach: bool = False
    # in a rule FAIL the alarm (and its head's learning) reads the network less the nodes of
    # the metrics past FAIL: what the FAIL under way explains (s24); act and the learner as off
    alarm_explain: bool = False
    # in a rule FAIL with no other rule metric (below FAIL) at WARN or forecast to breach, the
    # alarm's risk is at most the previous window's: it can go on or fall, not start or rise
    # (s25; the default since s25); act, the learning and the children's context as off
    alarm_cascade: bool = True
    # with alarm_cascade: the gate also holds for a horizon after a rule FAIL (a metric that
    # failed within it cannot make a new onset), and such a metric is no cascade (s26; the
    # default since s26)
    alarm_refractory: bool = True
    # where a metric's time-of-day profile is blind (its first day), the highest window mean of
    # the day so far caps a breach forecast from under it (processors.dayrecent; s27)
    season_recent: bool = False
    # the same ceiling read by the alarm's breach evidence only; the estimates, learning,
    # patterns and act stay the forecaster's (processors.firstday; s27; the default since s27)
    season_alarm: bool = True
    # a parent's status counts in its children's context only while news: a rule of the
    # parent reached it within the horizon; its risk always (processors.contextfresh; s27;
    # the default since s27)
    context_fresh: bool = True
    # the alarm's context reads the parents' alarm (the risk they emitted) where their act
    # differs, the status as before; act, its context and what is learnt as off
    # (processors.contextalarm; s28)
    context_alarm: bool = False
    # the alarm's context reads a parent's act only where its concern stood two windows,
    # else its alarm (processors.contextstood; s29)
    context_stood: bool = False
    # > 0: each RiskScore carries ``alarm``, the alarm state: firing from a risk at or over
    # alarm_threshold until the risk has stayed under it this long (the horizon), never released
    # inside a rule FAIL (processors.alarmstate; s29; the default since s29); the risk, act and
    # learning as off. 0: off (``alarm`` null)
    alarm_hold_s: int = 900
    # the alarm point (the settings' risk_threshold: one knob): where the alarm state fires
    alarm_threshold: float = 1 / 3
    # a child's emitted risk is at least the alarm point while a parent pages, its context is
    # at or over that point and it is not in a rule FAIL; act and learning as off
    # (processors.cascadepage; s30, the default since s30; needs alarm_hold_s)
    cascade_page: bool = True
    fleet_min_labels: int = 240  # labelled windows before a component's own model speaks
    # (component, component it depends on): the parent's worst status is network evidence
    dependencies: tuple[tuple[str, str], ...] = ()
    anomaly_model: str = "novelty"  # novelty | hst | joint (multivariate.JointDeviation)
    anomaly_warm: int = 250  # windows before a metric's novelty scores (its range is set)
    # windows over which scores recover after an alarm: 150 = 750 / 5, CAD OSE's rule (rest =
    # NAB's probation / 5) for a stream longer than 5,000 windows; NAB files get their own
    anomaly_rest: int = 150
    anomaly_seasonal_max_metrics: int = 2  # seasonal channel only for components this small
    # a second, coarser context resolution (levels // this; 0: off); the anomaly record reads
    # both, the risk the fine one alone (#15 s16, s18: docs/modelling.md, "NAB round seven")
    anomaly_coarse: int = 0
    # the anomaly record's rest restarts at every raw onset, the suppressed ones too (CAD OSE's
    # rule; the default since s19); the risk reads the score suppressed without it (#15 s19:
    # docs/modelling.md, "NAB round eight")
    anomaly_hold: bool = True
    # with anomaly_hold: a partial onset (a transition new, its level seen) within the series'
    # longest gap between earlier raw onsets waits up to a rest for novelty it does not imply
    # before it alarms (the default since s23); the risk reads the score without it (#15 s23:
    # docs/modelling.md, "NAB round eleven")
    anomaly_confirm: bool = True
    # with anomaly_confirm: the confirmation needs more than this many of the order + 1 contexts
    # new (1: one new context, a raw 0.25, no longer confirms; 0: s23's rule; the default since
    # s24) (#15 s24: docs/modelling.md, "NAB round twelve")
    anomaly_confirm_floor: int = 1
    anomaly_trees: int = 10  # hst only
    anomaly_height: int = 6
    anomaly_window: int = 50  # HalfSpaceTrees reference window, in windows
    # joint only (JointDeviation; chosen by SMD tune-on-one-machine, docs/modelling.md)
    anomaly_joint_alpha: float = 0.0001  # rate of each metric's EW mean and EW |residual|
    anomaly_joint_k: int = 1  # the joint score is the mean of the k largest |z|
    anomaly_joint_smooth: float = 0.1  # EW rate smoothing the joint score
    anomaly_joint_freeze: float = 1.0  # metrics do not learn while the score's z is above (0: off)
    # windows over which each metric's usual extremes are learnt; its |z| is then scaled down by
    # them relative to the other metrics' (0: off; #15 round four, docs/modelling.md)
    anomaly_joint_calibrate: int = 3000
    # a sample more than max_jump_s from its component's own event time (ahead, or behind a
    # watermark that one absurd sample set) is rejected alone, unless jump_confirm samples in a
    # row agree on the new time: then the component's clock really moved and it follows.
    # 0 turns the bound off.
    max_jump_s: int = 86_400
    jump_confirm: int = 3
    # a sample with more metrics than this is refused (a 1 MB map would make one component's
    # state, and its checkpoint, larger than a broker takes)
    max_metrics: int = 1000

    def __post_init__(self) -> None:
        problems = []
        if self.window_s <= 0 or self.lateness_s < 0 or self.horizon_s <= 0:
            problems.append("window_s and horizon_s must be > 0, lateness_s >= 0")
        if self.heartbeat_s <= 0 or self.min_windows_warm < 0 or self.trend_windows < 3:
            problems.append("heartbeat_s must be > 0, min_windows_warm >= 0, trend_windows >= 3")
        if not self.forecast_horizons_s or min(self.forecast_horizons_s) <= 0:
            problems.append("forecast_horizons_s must hold positive horizons")
        if self.anomaly_model not in ("novelty", "hst", "joint"):
            problems.append(
                f"anomaly_model must be 'novelty', 'hst' or 'joint', not {self.anomaly_model!r}"
            )
        if not (0 < self.anomaly_joint_alpha < 1 and 0 < self.anomaly_joint_smooth <= 1
                and self.anomaly_joint_k >= 1 and 0 <= self.anomaly_joint_freeze < math.inf
                and self.anomaly_joint_calibrate >= 0):
            problems.append("anomaly_joint_alpha in (0, 1), _smooth in (0, 1], _k >= 1, "
                            "_freeze >= 0 and finite, _calibrate >= 0")
        if (self.anomaly_warm < 1 or self.anomaly_rest < 0 or self.anomaly_seasonal_max_metrics < 0
                or self.anomaly_coarse < 0 or self.anomaly_confirm_floor < 0):
            problems.append("anomaly_warm must be >= 1; anomaly_rest, _seasonal_max_metrics, "
                            "_coarse, _confirm_floor >= 0")
        if self.forecaster not in ("seasonal", "trend", "snarimax"):
            problems.append(
                f"forecaster must be 'seasonal', 'trend' or 'snarimax', not {self.forecaster!r}"
            )
        if self.risk_target not in ("onset", "fail"):
            problems.append(f"risk_target must be 'onset' or 'fail', not {self.risk_target!r}")
        if self.alarm_hold_s < 0 or not 0.0 < self.alarm_threshold <= 1.0:
            problems.append("alarm_hold_s must be >= 0, alarm_threshold in (0, 1]")
        if self.max_jump_s < 0 or self.jump_confirm < 1 or self.max_metrics < 1:
            problems.append("max_jump_s must be >= 0, jump_confirm and max_metrics >= 1")
        if self.day_profile_bins < 0 or 86_400_000 % max(1, self.day_profile_bins):
            problems.append("day_profile_bins must be >= 0 and divide a day in milliseconds")
        if (self.drift_threshold < 0 or self.risk_lr < 0 or self.fleet_min_labels < 0
                or not self.forecast_trust >= 0 or not self.warn_trust >= 0
                or self.hover not in (0, 1, 2)):
            problems.append("drift_threshold, risk_lr, fleet_min_labels, forecast_trust and "
                            "warn_trust must be >= 0, hover 0, 1 or 2")
        if problems:
            raise ConfigError("PipelineConfig: " + "; ".join(problems))
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(
            self, "dependencies", tuple((str(c), str(p)) for c, p in self.dependencies)
        )
        object.__setattr__(
            self, "forecast_horizons_s", tuple(sorted(set(self.forecast_horizons_s)))
        )

    def state_key(self) -> dict[str, Any]:
        """The parameters a component's state is only valid under."""
        return {
            "window_s": self.window_s,
            "lateness_s": self.lateness_s,
            "seed": self.seed,
            "forecaster": (self.forecaster, self.trend_windows, self.drift_threshold),
            "risk": (
                self.learn_risk, self.risk_lr, self.risk_calibration, self.horizon_s,
                self.risk_target,
            ),
            "anomaly": (
                (self.anomaly_model, self.anomaly_trees, self.anomaly_height, self.anomaly_window)
                if self.anomaly_model == "hst"
                else (
                    self.anomaly_model,
                    self.anomaly_joint_alpha,
                    self.anomaly_joint_k,
                    self.anomaly_joint_smooth,
                    self.anomaly_joint_freeze,
                    self.anomaly_joint_calibrate,
                )
                if self.anomaly_model == "joint"
                else (
                    self.anomaly_model,
                    self.anomaly_warm,
                    self.anomaly_rest,
                    self.anomaly_seasonal_max_metrics,
                    *((self.anomaly_coarse,) if self.anomaly_coarse else ()),
                    *(("hold",) if self.anomaly_hold else ()),
                    *(("confirm",) if self.anomaly_hold and self.anomaly_confirm else ()),
                    *((f"floor{self.anomaly_confirm_floor}",) if self.anomaly_hold
                      and self.anomaly_confirm and self.anomaly_confirm_floor else ()),
                )
            ),
        }
