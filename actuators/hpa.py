"""The reactive baseline as Kubernetes runs it: the HorizontalPodAutoscaler (``autoscaling/v2``),
observed utilisation in, ``REPLICAS`` commands out, over the allocation engine's command contract.

The rule is the controller's (kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale,
"Algorithm details"; ``pkg/controller/podautoscaler/replica_calculator.go``), per component and
metric, every ``sync_s`` (``--horizontal-pod-autoscaler-sync-period``, 15 s)::

    usage_ratio      = mean utilisation of the ready pods / target
    desired_replicas = ceil(usage_ratio * ready_pods)

* **tolerance**: no change while ``|usage_ratio - 1| <= tolerance`` (0.1);
* **pods not yet ready** (scheduled, booting, failing readiness) are set aside; for a scale-up
  they count as using 0 % (the ratio is recomputed over all pods), and if that reverses the
  direction or falls within the tolerance, nothing changes: the controller does not scale up
  again while what it asked for is still starting;
* **several metrics**: the largest desired count wins;
* **scale-down stabilisation**: the count is the largest recommendation of the last
  ``stabilisation_s`` (``--horizontal-pod-autoscaler-downscale-stabilization``, 5 min);
* **scale-up rate** (``behavior.scaleUp`` defaults): at most +100 % or +4 pods per 15 s,
  whichever is more; ``min_replicas`` .. ``max_replicas`` bound the count.

Utilisation metrics are ``cpu.util`` (the resource metric), ``disk.io_util`` and ``net.util``
(pod metrics, as through a custom-metrics adapter), each with target ``0.7``. Memory is not
one: more pods do not relieve a process that leaks (``actuators.reactive``, run as the
``reactive-vertical`` peer, is the policy that resizes in place).

A ``REPLICAS`` GRANT's amount is the count over ``min_replicas`` (the deployment's own size);
back at it the policy sends a RELEASE. One command per component in flight. Pure and
deterministic: command ids hash the component, the count and the sample's ``ts``.

>>> hpa = HorizontalAutoscaler()
>>> s = {"component": "web-1", "host": "web-1", "ts": 15_000, "metrics": {"cpu.util": 1.0}}
>>> [(c["resource"], c["action"], c["amount"]) for c in hpa.on_sample(s)]
[('REPLICAS', 'GRANT', 1.0)]
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from actuators.contract import make_command
from schemas.errors import ConfigError

Record = dict[str, Any]

__all__ = ["HPAConfig", "HorizontalAutoscaler", "desired_replicas"]


def _default_targets() -> dict[str, float]:
    return {"cpu.util": 0.7, "disk.io_util": 0.7, "net.util": 0.7}


@dataclass(frozen=True)
class HPAConfig:
    """The HPA's knobs, Kubernetes' defaults (none chosen on this project's data)."""

    targets: Mapping[str, float] = field(default_factory=_default_targets)
    tolerance: float = 0.1
    stabilisation_s: int = 300
    sync_s: int = 15
    max_replicas: int = 20
    scale_up_pods: int = 4
    scale_up_percent: float = 100.0

    def __post_init__(self) -> None:
        if not self.targets or any(not 0.0 < t <= 1.0 for t in self.targets.values()):
            raise ConfigError("HPAConfig: targets must be within (0, 1]")
        if not 0.0 <= self.tolerance < 1.0 or self.stabilisation_s < 0 or self.sync_s < 1:
            raise ConfigError("HPAConfig: need 0 <= tolerance < 1, stabilisation_s >= 0, "
                              "sync_s >= 1")
        if self.max_replicas < 1 or self.scale_up_pods < 0 or self.scale_up_percent < 0:
            raise ConfigError("HPAConfig: max_replicas >= 1 and non-negative scale-up limits")


def desired_replicas(current: int, ready: int, utilisation: float, target: float,
                     tolerance: float = 0.1) -> int:
    """One metric's recommendation, as ``replica_calculator.go`` computes it: ``current``
    pods as the deployment asks, ``ready`` of them serving, their mean ``utilisation``.

    >>> desired_replicas(4, 4, 0.9, 0.45)   # the docs: 200m used of 100m wanted: doubled
    8
    >>> desired_replicas(50, 50, 0.9, 0.75)  # 50 * 90/75
    60
    >>> desired_replicas(4, 4, 0.74, 0.7)    # within the 10 % tolerance
    4
    """
    if ready <= 0:
        return current
    ratio = utilisation / target
    if current <= ready or ratio <= 1.0:  # nothing starting, or a scale-down: ready pods only
        if abs(ratio - 1.0) <= tolerance:
            return current
        return math.ceil(ratio * ready - 1e-9)
    # a scale-up with pods still starting: those count as using nothing
    new_ratio = utilisation * ready / current / target
    if new_ratio <= 1.0 or abs(new_ratio - 1.0) <= tolerance:
        return current
    return max(math.ceil(new_ratio * current - 1e-9), current)


@dataclass
class _Deployment:
    replicas: int  # as commanded (spec.replicas)
    floor: int  # min_replicas: the deployment's own size
    last_sync: int | None = None
    pending: tuple[str, int] | None = None
    history: deque[tuple[int, int]] = field(default_factory=deque)  # (ts ms, recommendation)


class HorizontalAutoscaler:
    """One HPA per component; ``min_replicas[component]`` defaults to 1."""

    def __init__(self, config: HPAConfig | None = None,
                 min_replicas: Mapping[str, int] | None = None) -> None:
        self.config = config if config is not None else HPAConfig()
        self._floor = dict(min_replicas or {})
        self._deps: dict[str, _Deployment] = {}

    def replicas(self) -> dict[str, int]:
        """The count each component's deployment is asked for."""
        return {c: d.replicas for c, d in sorted(self._deps.items())}

    def on_sample(self, sample: Mapping[str, Any], ready: int | None = None) -> list[Record]:
        """Commands for one observed MetricSample dict: at most one ``REPLICAS`` command.
        ``ready`` is how many pods serve now (the API's readiness); None: all asked for."""
        cfg = self.config
        component, ts = str(sample["component"]), int(sample["ts"])
        floor = max(int(self._floor.get(component, 1)), 1)
        dep = self._deps.setdefault(component, _Deployment(floor, floor))
        if dep.pending is not None:
            return []
        if dep.last_sync is not None and ts - dep.last_sync < cfg.sync_s * 1000:
            return []
        dep.last_sync = ts
        metrics = sample.get("metrics") or {}
        n_ready = dep.replicas if ready is None else min(int(ready), dep.replicas)
        wants = [desired_replicas(dep.replicas, n_ready, float(v), target, cfg.tolerance)
                 for m, target in sorted(cfg.targets.items())
                 if isinstance(v := metrics.get(m), int | float) and math.isfinite(v)]
        if not wants:
            return []
        rec = min(max(max(wants), dep.floor), cfg.max_replicas)
        dep.history.append((ts, rec))
        while dep.history[0][0] < ts - cfg.stabilisation_s * 1000:
            dep.history.popleft()
        want = max(r for _, r in dep.history) if rec < dep.replicas else rec
        most = max(dep.replicas + cfg.scale_up_pods,
                   math.floor(dep.replicas * (1.0 + cfg.scale_up_percent / 100.0)))
        want = min(want, most, cfg.max_replicas)
        if want == dep.replicas:
            return []
        host = str(sample.get("host") or component.split("/", 1)[0])
        cmd = self._command(component, host, dep, want, ts, n_ready, metrics)
        dep.pending = (cmd["command_id"], want)
        return [cmd]

    def on_outcome(self, outcome: Mapping[str, Any]) -> None:
        """APPLIED makes a command's count the deployment's; any other status drops it."""
        cid = outcome.get("command_id")
        for dep in self._deps.values():
            if dep.pending is not None and dep.pending[0] == cid:
                if outcome.get("status") == "APPLIED":
                    dep.replicas = dep.pending[1]
                dep.pending = None
                return

    def _command(self, component: str, host: str, dep: _Deployment, want: int, ts: int,
                 ready: int, metrics: Mapping[str, Any]) -> Record:
        action = "RELEASE" if want == dep.floor else "GRANT"
        key = f"hpa|{component}|{want}|{ts}"
        seen = ", ".join(f"{m} {float(metrics[m]):.2f}" for m in sorted(self.config.targets)
                         if isinstance(metrics.get(m), int | float))
        reason = (f"HPA: {seen} over {ready} ready of {dep.replicas} pods: {want} replicas")
        return make_command(hashlib.sha1(key.encode()).hexdigest(), component, host, ts,
                            "REPLICAS", action, float(want - dep.floor), "replicas", 0, reason,
                            0.0, 0)
