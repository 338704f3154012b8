"""The allocation engine's policy knobs, validated once when they are made.

>>> EngineConfig(release_threshold=0.7)
Traceback (most recent call last):
...
schemas.errors.ConfigError: EngineConfig: need 0 <= release_threshold < risk_threshold <= 1
"""

from __future__ import annotations

from collections.abc import Mapping
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


@dataclass(frozen=True)
class EngineConfig:
    """The engine's policy knobs; durations in seconds, amounts in each resource's unit.

    ``resources`` gives each resource's unit, baseline and fleet-default capacity per host;
    ``host_capacity[host][resource]`` overrides a capacity for one host.
    """

    risk_threshold: float = 0.6
    release_threshold: float = 0.3
    release_hold_s: int = 300  # how long risk must stay low before a lease is released
    min_criticality: int = 3
    preempt_criticality: int = 8
    default_criticality: int = 5
    lease_s: int = 900
    cooldown_s: int = 120
    max_changes_per_hour: int = 6  # grants that change an amount, and releases, per component
    margin: float = 0.1  # headroom kept under the breach threshold, as a fraction
    max_growth: float = 1.0  # one grant grows an allocation by at most this fraction
    resources: Mapping[str, ResourceSpec] = field(default_factory=lambda: DEFAULT_RESOURCES)
    host_capacity: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    metric_resources: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_METRIC_RESOURCES
    outcome_buffer: int = 10_000  # engine outcomes kept until drained; the oldest go first

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
        if self.max_changes_per_hour < 1 or self.outcome_buffer < 1:
            problems.append("max_changes_per_hour and outcome_buffer must be >= 1")
        if self.margin < 0 or self.max_growth <= 0:
            problems.append("need margin >= 0 and max_growth > 0")
        named = set(self.resources)
        named.update(r for caps in self.host_capacity.values() for r in caps)
        named.update(r for _, rs in self.metric_resources for r in rs)
        if named - set(RESOURCES):
            problems.append(f"unknown resources {sorted(named - set(RESOURCES))}")
        if any(v < 0 for caps in self.host_capacity.values() for v in caps.values()):
            problems.append("host capacities must be >= 0")
        if problems:
            raise ConfigError("EngineConfig: " + "; ".join(problems))
