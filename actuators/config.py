"""The allocation engine's policy knobs, validated once when they are made.

>>> EngineConfig(release_threshold=0.5)
Traceback (most recent call last):
...
schemas.errors.ConfigError: EngineConfig: need 0 <= release_threshold < risk_threshold <= 1
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from actuators.pool import DEFAULT_RESOURCES, RESOURCES, ResourceSpec
from schemas.errors import ConfigError

DEFAULT_METRIC_RESOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cpu.*", ("CPU_WEIGHT", "CPU_QUOTA")),
    ("mem.*", ("MEMORY_HIGH",)),
    ("disk.io*", ("IO_WEIGHT",)),
    ("net.*", ("NET_BANDWIDTH",)),
    ("latency.*", ("REPLICAS", "CPU_WEIGHT")),
)
# The FAIL thresholds of the built-in health rules (processors/defaults.toml) of the metrics
# that measure a capacity in use: what release, step-down and scale-down judge a forecast by
# when the risk score names no breach threshold for the metric.
DEFAULT_CAPACITY_THRESHOLDS: tuple[tuple[str, float], ...] = (
    ("cpu.util", 0.95),
    ("mem.used_pct", 95.0),
    ("disk.io_util", 0.95),
    ("net.util", 0.95),
)
_TRAILING_NUMBER = re.compile(r"[-_.:]*\d+$")


def default_component_class(component: str) -> str:
    """A component's class for learning: each path segment without its trailing number.

    >>> default_component_class("web-03"), default_component_class("web-17/postgres-2")
    ('web', 'web/postgres')
    """
    return "/".join(_TRAILING_NUMBER.sub("", seg) or seg for seg in component.split("/"))


@dataclass(frozen=True)
class EngineConfig:
    """The engine's policy knobs; durations in seconds, amounts in each resource's unit.

    ``resources`` gives each resource's unit, baseline and fleet-default capacity per host;
    ``host_capacity[host][resource]`` overrides a capacity for one host.
    """

    # the alarm point: risk is a calibrated P(a new FAIL within the horizon), so 1/3 is where
    # acting pays when a missed breach costs twice a false alarm (streams.settings
    # miss_cost_ratio; processors.calibration.alarm_threshold); release at half of it
    risk_threshold: float = 1.0 / 3.0
    release_threshold: float = 1.0 / 6.0
    release_hold_s: int = 1800  # how long risk must stay low before a lease is released
    min_criticality: int = 3
    preempt_criticality: int = 8
    default_criticality: int = 5
    lease_s: int = 3600
    cooldown_s: int = 120
    max_changes_per_hour: int = 6  # grants that change an amount, and releases, per component
    margin: float = 0.3  # headroom kept under the breach threshold, as a fraction
    max_growth: float = 1.0  # one grant grows an allocation by at most this fraction
    resources: Mapping[str, ResourceSpec] = field(default_factory=lambda: DEFAULT_RESOURCES)
    host_capacity: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    metric_resources: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_METRIC_RESOURCES
    outcome_buffer: int = 10_000  # engine outcomes kept until drained; the oldest go first
    # components never seen before are taken at most this many per host per window (a writer
    # forging ids must not fill a host's pools); 0: no cap
    max_new_components_per_host: int = 100
    new_component_window_s: int = 3600
    # hosts never seen before are taken at most this many per window, fleet-wide, after the
    # first window (forged host names must not open pools without end); 0: no cap
    max_new_hosts: int = 50
    new_host_window_s: int = 3600
    # one component's lease on a resource is at most this share of its host's capacity of it
    # (a writer forging risk 1.0 for a real component gets no more); 1: only the pool bounds it
    max_component_share: float = 0.25
    capacity_thresholds: tuple[tuple[str, float], ...] = DEFAULT_CAPACITY_THRESHOLDS
    # scale-down: below-baseline grants for components that stay far from their thresholds
    scale_down: bool = True
    shrink_below: float = 0.5  # forecast peak under this fraction of the threshold is "quiet"
    shrink_hold_s: int = 900  # how long a metric must stay quiet before a scale-down
    max_shrink: float = 0.6  # a scale-down takes at most this fraction of the baseline
    shrink_target: float = 0.65  # a scale-down aims the peak at this fraction of the threshold
    shrink_revert: float = 0.9  # ... and is reverted once the peak passes this fraction
    shrink_step: float = 0.2  # one scale-down (or deepening) takes at most this of the baseline
    shrink_settle_s: int = 900  # after a scale-down, judge it by level and high risk this long
    shrink_max_criticality: int = 7  # components this critical or more are never scaled down
    # feedback: measured effects, Thompson sampling over resources, holdouts
    effect_after_s: int | None = None  # when "after" is measured; None: the risk's horizon_s
    thompson: bool = True  # order candidate resources by a posterior draw once there is evidence
    head_start: float = 2.0  # pseudo-successes for the first mapped resource (today's choice)
    holdout: float = 0.05  # fraction of would-be grants deliberately not acted on
    holdout_max_risk: float = 0.8  # only risks up to this are held out; surer ones always act
    component_class: Callable[[str], str] = default_component_class

    def __post_init__(self) -> None:
        problems = []
        if not 0.0 <= self.release_threshold < self.risk_threshold <= 1.0:
            problems.append("need 0 <= release_threshold < risk_threshold <= 1")
        if not 0 <= self.min_criticality <= self.preempt_criticality:
            problems.append("need 0 <= min_criticality <= preempt_criticality")
        if not 0 <= self.default_criticality <= 10:
            problems.append("default_criticality must be within 0..10")
        if self.cooldown_s < 0 or self.release_hold_s < 0 or self.lease_s < max(1, self.cooldown_s):
            problems.append("need cooldown_s >= 0, release_hold_s >= 0, lease_s >= cooldown_s")
        if self.max_new_components_per_host < 0 or self.new_component_window_s < 1:
            problems.append("need max_new_components_per_host >= 0, new_component_window_s >= 1")
        if self.max_new_hosts < 0 or self.new_host_window_s < 1:
            problems.append("need max_new_hosts >= 0, new_host_window_s >= 1")
        if not 0.0 < self.max_component_share <= 1.0:
            problems.append("need 0 < max_component_share <= 1")
        if self.max_changes_per_hour < 1 or self.outcome_buffer < 1:
            problems.append("max_changes_per_hour and outcome_buffer must be >= 1")
        if self.margin < 0 or self.max_growth <= 0:
            problems.append("need margin >= 0 and max_growth > 0")
        if not 0.0 < self.shrink_below < 1.0 or not 0.0 <= self.max_shrink < 1.0:
            problems.append("need 0 < shrink_below < 1 and 0 <= max_shrink < 1")
        if not 0.0 < self.shrink_target < self.shrink_revert <= 1.0:
            problems.append("need 0 < shrink_target < shrink_revert <= 1")
        if self.shrink_settle_s < 0 or not 0.0 < self.shrink_step <= 1.0:
            problems.append("need shrink_settle_s >= 0 and 0 < shrink_step <= 1")
        if self.shrink_hold_s < 0 or (self.effect_after_s is not None and self.effect_after_s < 0):
            problems.append("need shrink_hold_s >= 0 and effect_after_s >= 0")
        if not 0.0 <= self.holdout < 1.0 or self.head_start < 0:
            problems.append("need 0 <= holdout < 1 and head_start >= 0")
        if not 0.0 <= self.holdout_max_risk <= 1.0:
            problems.append("need 0 <= holdout_max_risk <= 1")
        if any(t <= 0 for _, t in self.capacity_thresholds):
            problems.append("capacity thresholds must be > 0")
        named = set(self.resources)
        named.update(r for caps in self.host_capacity.values() for r in caps)
        named.update(r for _, rs in self.metric_resources for r in rs)
        if named - set(RESOURCES):
            problems.append(f"unknown resources {sorted(named - set(RESOURCES))}")
        if any(v < 0 for caps in self.host_capacity.values() for v in caps.values()):
            problems.append("host capacities must be >= 0")
        if problems:
            raise ConfigError("EngineConfig: " + "; ".join(problems))
