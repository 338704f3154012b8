"""Threshold health rules: WARN / FAIL per metric, with hysteresis and a ``for_s`` hold.

A :class:`Rule` judges one metric of every sample. A worse status is taken only once its
condition has held for ``for_s`` seconds of event time (a Prometheus alert rule's ``for``);
a status clears as soon as the value is back past its threshold by ``hysteresis`` (so a value
wobbling around a threshold does not flap). :class:`HealthEvaluator` keeps one small
:class:`HealthState` per component and emits ``HealthSignal`` dicts (``HealthSignal.avsc``) on
every change of status, the first verdict included, and as a heartbeat every ``heartbeat_s``
of event time while a status stays the same.

>>> ev = HealthEvaluator([Rule("cpu.util", warn=0.8, fail=0.95, hysteresis=0.05)])
>>> [s["status"] for s in ev.evaluate("web-1", 0, {"cpu.util": 0.97})]
['FAIL']
>>> ev.evaluate("web-1", 1_000, {"cpu.util": 0.93}), ev.worst_status("web-1").name
([], 'FAIL')
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from processors.nativeattr import mypyc_attr
from schemas.errors import ConfigError

DEFAULTS_PATH = Path(__file__).with_name("defaults.toml")


class Status(IntEnum):
    PASS = 0
    WARN = 1
    FAIL = 2


# the members as module constants: reading one from the enum class (``Status.FAIL``) costs
# ~6 times a plain class attribute in Python 3.11, and the judging loop reads them per sample
# and rule (#14 s18); the same objects
PASS, WARN, FAIL = Status.PASS, Status.WARN, Status.FAIL
STATUSES = (PASS, WARN, FAIL)  # by value: ``STATUSES[n]`` is ``Status(n)``


@dataclass(frozen=True)
class Rule:
    """Thresholds for one metric. ``direction="below"`` flags values at or under them."""

    metric: str
    fail: float
    warn: float | None = None
    direction: str = "above"
    hysteresis: float = 0.0
    for_s: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            suffix = "high" if self.direction == "above" else "low"
            object.__setattr__(self, "name", f"{self.metric}.{suffix}")
        problems = []
        if self.direction not in ("above", "below"):
            problems.append(f"direction must be 'above' or 'below', not {self.direction!r}")
        if not all(math.isfinite(x) for x in (self.fail, self.warn or 0.0, self.hysteresis)):
            problems.append("thresholds and hysteresis must be finite numbers")
        if self.hysteresis < 0 or self.for_s < 0:
            problems.append("hysteresis and for_s must be >= 0")
        if self.warn is not None and self.sign * (self.fail - self.warn) < 0:
            problems.append(f"warn {self.warn} is worse than fail {self.fail}")
        if problems:
            raise ConfigError(f"health rule {self.name!r}: " + "; ".join(problems))

    @functools.cached_property
    def sign(self) -> float:
        """+1 for "above" rules, -1 for "below": ``sign * value`` grows as health worsens.
        (Computed once: the outlook reads it ~5 times per rule metric and window, #14 s18;
        held in the instance's dict, not a field: equality and repr are the fields'.)"""
        return 1.0 if self.direction == "above" else -1.0

    def threshold(self, status: Status) -> float | None:
        if status == FAIL:
            return self.fail
        return self.warn if status == WARN else None

    def holds(self, value: float, status: Status, current: Status) -> bool:
        """Whether ``value`` is at least as bad as ``status``, with hysteresis if already there."""
        thr = self.threshold(status)
        if thr is None:
            return status == PASS
        slack = self.hysteresis if current >= status else 0.0
        gap = value - thr if self.direction == "above" else thr - value
        return gap >= -slack


def parse_rules(data: Mapping[str, Any], source: str = "rules") -> tuple[Rule, ...]:
    """Rules from a mapping shaped like ``defaults.toml``: ``{"rule": [{...}, ...]}``."""
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: 'rule' must be an array of tables ([[rule]])")
    allowed = {"metric", "warn", "fail", "direction", "hysteresis", "for_s", "name"}
    rules: list[Rule] = []
    for i, entry in enumerate(entries):
        where = f"{source}: rule #{i + 1}"
        if not isinstance(entry, Mapping) or "metric" not in entry or "fail" not in entry:
            raise ConfigError(f"{where} needs at least 'metric' and 'fail'")
        unknown = set(entry) - allowed
        if unknown:
            raise ConfigError(
                f"{where} has unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        try:
            rule = Rule(
                metric=str(entry["metric"]),
                fail=float(entry["fail"]),
                warn=None if entry.get("warn") is None else float(entry["warn"]),
                direction=str(entry.get("direction", "above")),
                hysteresis=float(entry.get("hysteresis", 0.0)),
                for_s=float(entry.get("for_s", 0.0)),
                name=str(entry.get("name", "")),
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        rules.append(rule)
    names = [r.name for r in rules]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{source}: rule names must be unique; repeated: {dupes}")
    return tuple(rules)


def load_rules(path: str | Path) -> tuple[Rule, ...]:
    """Rules from a TOML file of ``[[rule]]`` tables (see ``processors/defaults.toml``)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"health rules file {path}: {exc}") from exc
    return parse_rules(data, source=str(path))


def default_rules() -> tuple[Rule, ...]:
    """The rules shipped in ``processors/defaults.toml``."""
    return load_rules(DEFAULTS_PATH)


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class RuleState:
    status: Status | None = None  # None until the first verdict
    warn_since_ms: int | None = None  # since when the WARN condition has held, unbroken
    fail_since_ms: int | None = None
    last_emit_ms: int | None = None


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class HealthState:
    """One component's health: per rule name, its state; plus the last ts evaluated."""

    last_ts_ms: int | None = None
    rules: dict[str, RuleState] = field(default_factory=dict)

    def statuses(self) -> dict[str, Status]:
        return {name: rs.status or PASS for name, rs in self.rules.items()}

    def worst(self) -> Status:
        return max(self.statuses().values(), default=PASS)


class HealthEvaluator:
    """Applies rules to samples, per component, in event time."""

    def __init__(self, rules: Iterable[Rule], heartbeat_s: float = 60) -> None:
        self.rules = tuple(rules)
        self.heartbeat_s = heartbeat_s
        self._heartbeat_ms = int(heartbeat_s * 1000)
        self._by_metric: dict[str, list[Rule]] = {}
        for rule in self.rules:
            self._by_metric.setdefault(rule.metric, []).append(rule)
        # per metric in name order: (rule, its name, its first threshold, +1 above / -1 below)
        self._plan = [
            (m, [(r, r.name, r.warn if r.warn is not None else r.fail, r.sign) for r in rs])
            for m, rs in sorted(self._by_metric.items())
        ]
        self.states: dict[str, HealthState] = {}

    def evaluate(
        self, component: str, ts_ms: int, metrics: Mapping[str, float]
    ) -> list[dict[str, Any]]:
        """HealthSignal dicts for one sample. Samples older than the last one judged for this
        component are skipped (their verdict would rewrite history); unknown metrics and
        non-finite values are ignored."""
        state = self.states.setdefault(component, HealthState())
        if state.last_ts_ms is not None and ts_ms < state.last_ts_ms:
            return []
        state.last_ts_ms = ts_ms
        out: list[dict[str, Any]] = []
        rule_states = state.rules
        beat_ms = self._heartbeat_ms
        passing = PASS
        # a dict (the pipeline's): its lookups native when compiled (s27); else a copy
        values = metrics if isinstance(metrics, dict) else dict(metrics)
        for metric, plan in self._plan:
            got = values.get(metric)
            if type(got) is not float:  # the usual case first: a float as decoded (s18)
                if got is None or not isinstance(got, int | float):
                    continue
                got = float(got)
            value: float = got
            if not value - value == 0.0:  # not finite (inf - inf, nan: nan); native
                continue
            for rule, name, first, sign in plan:
                rs = rule_states.get(name)
                if rs is None:
                    rs = rule_states[name] = RuleState()
                # The usual case, decided here: PASS, short of its first threshold, no
                # heartbeat due: nothing changes but the conditions that no longer hold.
                elif (
                    rs.status == passing
                    and sign * (value - first) < 0
                    and rs.last_emit_ms is not None
                    and ts_ms - rs.last_emit_ms < beat_ms
                ):
                    rs.warn_since_ms = rs.fail_since_ms = None
                    continue
                signal = self._step(component, rule, rs, ts_ms, value)
                if signal is not None:
                    out.append(signal)
        return out

    def _step(
        self, component: str, rule: Rule, rs: RuleState, ts_ms: int, value: float
    ) -> dict[str, Any] | None:
        current = rs.status if rs.status is not None else PASS
        warn_now = rule.warn is not None and rule.holds(value, WARN, current)
        fail_now = rule.holds(value, FAIL, current)
        if warn_now or fail_now:  # a FAIL-level value is also at least WARN-level
            rs.warn_since_ms = ts_ms if rs.warn_since_ms is None else rs.warn_since_ms
        else:
            rs.warn_since_ms = None
        rs.fail_since_ms = (
            (ts_ms if rs.fail_since_ms is None else rs.fail_since_ms) if fail_now else None
        )

        new = current
        # Clear at once (hysteresis already applied in `holds`) to the worst level still held.
        if new == FAIL and not fail_now:
            new = WARN if warn_now else PASS
        if new == WARN and not warn_now:
            new = PASS
        # Worsen only once the condition has held for for_s.
        hold_ms = rule.for_s * 1000
        if rs.fail_since_ms is not None and ts_ms - rs.fail_since_ms >= hold_ms:
            new = FAIL
        elif (
            rule.warn is not None
            and rs.warn_since_ms is not None
            and ts_ms - rs.warn_since_ms >= hold_ms
            and new < WARN
        ):
            new = WARN

        changed = rs.status is None or new != rs.status
        due = rs.last_emit_ms is None or ts_ms - rs.last_emit_ms >= self._heartbeat_ms
        rs.status = new
        if not changed and not due:
            return None
        rs.last_emit_ms = ts_ms
        return {
            "component": component,
            "ts": ts_ms,
            "status": new.name,
            "metric": rule.metric,
            "value": value,
            "threshold": rule.threshold(new),
            "rule": rule.name,
            "heartbeat": not changed,
        }

    def worst_status(self, component: str) -> Status:
        """The worst current status over the component's rules (PASS if none judged yet)."""
        state = self.states.get(component)
        return state.worst() if state is not None else PASS

    def statuses(self, component: str) -> dict[str, Status]:
        """Current status per rule name for ``component``."""
        state = self.states.get(component)
        return state.statuses() if state is not None else {}
