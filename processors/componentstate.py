"""One component's state in :class:`processors.pipeline.Pipeline`, and its snapshot.

:class:`ComponentState` is a value: everything the pipeline holds for one component (windows,
health rule state, novelty detector, forecasters, pending labels, its own risk model).
:func:`snapshot` writes it, with a copy of the fleet's risk model, in the explicit format of
:mod:`processors.stateformat`; :func:`restore` reads such bytes back, refusing anything that is
not a snapshot of that component under the same parameters.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from processors.anomaly import AnomalyDetector, ComponentNovelty
from processors.calibration import PendingLabels, RiskLearner
from processors.features import Windower
from processors.health import FAIL, HealthState
from processors.metricoutlook import MetricOutlook
from processors.multivariate import JointDeviation
from processors.nativeattr import mypyc_attr
from processors.stateformat import VERSION as SNAPSHOT_FORMAT
from processors.stateformat import decode as decode_state
from processors.stateformat import encode as encode_state
from processors.statewrite import Shared, encode_map
from schemas.errors import ConfigError, ContractError

__all__ = ["MAX_SHARED_STATUSES", "ComponentState", "restore", "shared", "shared_snapshot",
           "shared_statuses", "snapshot"]

MAX_SHARED_STATUSES = 4096  # distinct sets of statuses shared; past that each has its own dict
_SHARED: dict[tuple[tuple[str, int], ...], dict[str, int]] = {}


def shared_statuses(statuses: Mapping[str, int]) -> dict[str, int]:
    """``statuses`` (rule -> status) as ints in one dict for every window and component that
    has the same (#14: most components' rules stand at PASS; ~270 bytes each, three a
    component). Never changed in place: whoever changes statuses makes a new dict.

    >>> shared_statuses({"cpu": 1}) is shared_statuses({"cpu": 1})
    True
    """
    key = tuple((name, int(v)) for name, v in statuses.items())
    got = _SHARED.get(key)
    if got is None:
        got = dict(key)
        if len(_SHARED) < MAX_SHARED_STATUSES:
            _SHARED[key] = got
    return got


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class ComponentState:
    """One component's whole state (a value; written by :func:`snapshot` in the explicit
    format of :mod:`processors.stateformat`)."""

    host: str
    windower: Windower
    detector: AnomalyDetector | ComponentNovelty | JointDeviation
    health: HealthState = field(default_factory=HealthState)
    outlooks: dict[str, MetricOutlook] = field(default_factory=dict)
    pending: PendingLabels | None = None  # scored windows waiting for their label
    learner: RiskLearner = field(default_factory=RiskLearner)  # the component's own model
    window_status: dict[int, dict[str, int]] = field(default_factory=dict)  # start -> statuses
    last_status: dict[str, int] = field(default_factory=dict)
    last_fail_ms: dict[str, int] = field(default_factory=dict)  # rule -> last sample in FAIL
    last_risk: float = 0.0  # of the latest window scored (context for its dependents)
    # its unweighed risk (RiskScore's ``act``, processors/actsignal.py) where that differs
    last_act: float | None = None
    # the alarm state (processors/alarmstate.py, alarm_hold_s): None while not firing
    alarm_hi_ms: int | None = None
    samples_seen: int = 0
    windows_seen: int = 0

    def statuses_at(self, start_ms: int) -> dict[str, int]:
        """Rule statuses as they stood at the end of the window starting at ``start_ms`` (no
        look-ahead into later samples); the statuses of earlier windows are let go."""
        done = [s for s in self.window_status if s <= start_ms]
        if done:
            self.last_status = self.window_status[max(done)]
            for s in done:
                del self.window_status[s]
        return self.last_status

    def label_event(self, ts: int, horizon_ms: int, target: str) -> bool:
        """Whether the sample at ``ts`` makes the windows before it positive: a FAIL onset (a
        rule entering FAIL after at least ``horizon_ms`` out of it, as the breach scorer merges
        crossings) for ``target="onset"``, any FAIL status for ``"fail"``."""
        onset = False
        for name, rs in self.health.rules.items():
            if rs.status == FAIL:
                last = self.last_fail_ms.get(name)
                onset = onset or last is None or ts - last > horizon_ms
                self.last_fail_ms[name] = ts
        if target == "fail":
            return self.health.worst() == FAIL
        return onset

    def failed_lately(self, ts: int, horizon_ms: int, rule_metric: Mapping[str, str]
                      ) -> set[str]:
        """The metrics (``rule_metric``: rule name -> metric) with a rule in FAIL within
        ``horizon_ms`` before ``ts`` (their next crossing would be the same breach, not a new
        onset)."""
        since = ts - horizon_ms
        return {
            rule_metric[name]
            for name, last in self.last_fail_ms.items()
            if last >= since and name in rule_metric
        }


def snapshot(component: str, key: object, state: ComponentState, fleet: RiskLearner) -> bytes:
    """The component's state as bytes, with the pipeline's ``key`` (its parameters) and the
    fleet's model (shared; a restore keeps the most experienced copy)."""
    return encode_state({"component": component, "key": key, "state": state, "fleet": fleet})


def shared(key: object, fleet: RiskLearner) -> tuple[Shared, Shared]:
    """The key and the fleet's model for :func:`shared_snapshot`, packed once for every
    snapshot of a round (s31) in which nothing changes them."""
    return Shared(key), Shared(fleet)


def shared_snapshot(component: str, state: ComponentState, common: tuple[Shared, Shared]
                    ) -> bytes:
    """:func:`snapshot` byte for byte, with ``common`` from :func:`shared`."""
    return encode_map({"component": component, "key": common[0], "state": state,
                       "fleet": common[1]})


def restore(component: str, blob: bytes, key: object, rules: Collection[str]
            ) -> tuple[ComponentState, RiskLearner | None]:
    """The state and the fleet's model of a :func:`snapshot` of ``component`` made under
    ``key``; the state of a rule not in ``rules`` (no longer configured) is dropped.

    Bytes that are not such a snapshot raise ContractError; one made under other parameters
    raises ConfigError. The bytes are data, never code (:mod:`processors.stateformat`).
    """
    try:
        payload = decode_state(blob)
    except ContractError as exc:
        raise ContractError(
            f"checkpoint for component {component!r} is unreadable: {exc}"
        ) from exc
    if (
        not isinstance(payload, dict)
        or payload.get("component") != component
        or not isinstance(payload.get("state"), ComponentState)
    ):
        raise ContractError(
            f"checkpoint for component {component!r}: not a snapshot of this component "
            f"(format {SNAPSHOT_FORMAT})"
        )
    if payload.get("key") != key:
        raise ConfigError(
            f"checkpoint for component {component!r} was made under {payload.get('key')}, "
            f"this pipeline runs {key}; replay instead of restoring"
        )
    state: ComponentState = payload["state"]
    known = set(rules)
    state.health.rules = {n: r for n, r in state.health.rules.items() if n in known}
    state.last_status = shared_statuses(
        {n: v for n, v in state.last_status.items() if n in known})
    for start, statuses in state.window_status.items():
        state.window_status[start] = shared_statuses(
            {n: v for n, v in statuses.items() if n in known})
    fleet = payload.get("fleet")
    return state, fleet if isinstance(fleet, RiskLearner) else None
