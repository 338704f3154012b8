"""``BaseAdapter``: the format-independent half of every adapter, and the values a format
module hands it (``Point``s of an ``Ident``) or returns from its name mapping (``Emit`` or
``Join``)."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple, TypeVar

from streams.ingest.common import (
    COUNTER,
    GAUGE,
    AdapterError,
    norm_name,
    quantile_name,
    series_key,
    series_suffix,
    to_number,
)
from streams.ingest.component import CONTEXT_TAGS, ComponentRule
from streams.ingest.counters import OK, CounterState, Joined, Joiner, JoinKey, Part

T = TypeVar("T")


class Emit(NamedTuple):
    """Map a point straight to one metric: ``(value + offset) * scale``."""

    target: str
    scale: float = 1.0
    offset: float = 0.0


class Join(NamedTuple):
    """Feed a point to a Joiner round: ``key`` names the derived metric, ``part`` the series,
    ``spec`` the aggregate (a name in AGGREGATES and its arguments)."""

    key: str
    part: Part
    spec: tuple[Any, ...]
    fixed: frozenset[Part] | None = None


class Ident(NamedTuple):
    """Whose a point is: its component, host, descriptive tags, and ``source``: the component
    with those tags, which keeps apart two sources of one component (two replicas behind
    one id), so their counters and joins never mix."""

    component: str
    host: str
    tags: dict[str, str]
    source: str


class Point(NamedTuple):
    """One value of one series, as a format module reads it."""

    ident: Ident
    name: str
    raw: Any
    ts: int
    series: dict[str, str]
    kind: int = GAUGE
    interval_ms: int | None = None
    start_ms: int | None = None
    unit: str = ""
    role: str = ""  # "bucket" (series has "le") or "quantile" (series has "quantile")
    whole: bool = False  # its message holds all its siblings: joins it feeds may settle


def clean_tags(raw: Any) -> dict[str, str]:
    """String tags from a JSON object: scalars become text, a list keeps its last non-null
    string (Vector's multi-valued tags), nested values are left out."""
    if not isinstance(raw, dict):
        return {}
    out = {}
    for k, v in raw.items():
        if isinstance(v, str):
            out[k] = v
        elif isinstance(v, list):
            texts = [x for x in v if isinstance(x, str)]
            if texts:
                out[k] = texts[-1]
        elif isinstance(v, bool):
            out[k] = "true" if v else "false"
        elif isinstance(v, int | float):
            out[k] = str(v)
    return out


_MEMO_SIZE = 65_536
STAT_KEYS = (
    "messages", "rejected", "points", "samples", "skipped_values", "skipped_points",
    "counter_first", "counter_reset", "counter_stale", "joins_late", "unsupported",
)


class BaseAdapter(ABC):
    """The format-independent half of an adapter: values, counter rates, name mapping,
    joins and grouping into one MetricSample per (component, ts).

    Subclasses implement ``read`` (payload → points; it raises before any state changes;
    ``Point.whole`` marks points whose message holds all their siblings) and may override
    ``map_point`` (known names → forewarn metrics) and ``base_name`` (pass-through names).
    Unmapped points pass through as ``base_name + series_suffix``; counter rates get "_s".
    ``stats`` counts what was read, skipped and why, so nothing is dropped silently.
    """

    fmt: ClassVar[str] = "?"

    def __init__(
        self, rule: ComponentRule | None = None, *, max_series: int = 100_000,
        join_tolerance_ms: int = 500,
    ) -> None:
        self.rule = rule if rule is not None else ComponentRule()
        self.max_series = max_series
        self.join_tolerance_ms = join_tolerance_ms
        self.counters = CounterState(max_series)
        self.joins = Joiner(join_tolerance_ms, max_series)
        self.stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)
        self._identity = self.rule.identity_keys | CONTEXT_TAGS
        # memo of pure functions of a point's tags and names (not state; bounded)
        self._idents: dict[tuple[Any, ...], tuple[Ident | None, dict[str, str]]] = {}
        self._actions: dict[tuple[Any, ...], tuple[Emit | Join, str]] = {}

    # -- the seam ------------------------------------------------------------------------

    def parse(self, payload: bytes, recv_ts_ms: int | None = None) -> list[dict[str, Any]]:
        """MetricSample dicts for one message; AdapterError if it cannot be read."""
        self.stats["messages"] += 1
        try:
            points = self.read(payload, recv_ts_ms)
        except AdapterError:
            self.stats["rejected"] += 1
            raise
        groups: dict[tuple[str, int], dict[str, Any]] = {}
        touched: set[JoinKey] = set()
        self.stats["points"] += len(points)
        for p in points:
            self._process(groups, touched, p)
        if touched:
            self._put_joined(groups, self.joins.settle(touched))
        return self._finish(groups)

    def flush(self) -> list[dict[str, Any]]:
        """Samples of every join still waiting for parts (end of a replay, shutdown)."""
        groups: dict[tuple[str, int], dict[str, Any]] = {}
        self._put_joined(groups, self.joins.flush())
        return self._finish(groups)

    def state(self) -> dict[str, Any]:
        """JSON-ready state (counter last values, open joins), for checkpoints."""
        return {"format": self.fmt, "counters": self.counters.state(),
                "joins": self.joins.state()}

    def load_state(self, state: Mapping[str, Any]) -> None:
        if state.get("format") != self.fmt:
            raise ValueError(f"state of a {state.get('format')!r} adapter, not {self.fmt!r}")
        self.counters.load_state(state["counters"])
        self.joins.load_state(state["joins"])

    # -- hooks ---------------------------------------------------------------------------

    @abstractmethod
    def read(self, payload: bytes, recv_ts_ms: int | None) -> list[Point]:
        """The points one message carries, in the format's own terms."""

    def map_point(
        self, name: str, series: Mapping[str, str], unit: str, role: str
    ) -> Emit | Join | None:
        return None

    def base_name(self, name: str, kind: int) -> str:
        return norm_name(name) + ("_s" if kind != GAUGE else "")

    # -- helpers for subclasses ----------------------------------------------------------

    def error(self, reason: str) -> AdapterError:
        return AdapterError(self.fmt, reason)

    def read_each(
        self, items: Sequence[T], read_one: Callable[[T], Iterable[Point]], what: str
    ) -> list[Point]:
        """The points of every item of a message. An unreadable item is skipped and counted;
        the message is rejected only when no item is readable (``what`` names the items)."""
        points: list[Point] = []
        bad: list[AdapterError] = []
        for item in items:
            try:
                points.extend(read_one(item))
            except AdapterError as exc:
                bad.append(exc)
        if bad and len(bad) == len(items):
            if len(items) == 1:
                raise bad[0]
            raise self.error(f"none of {len(items)} {what} readable; first: {bad[0].reason}")
        self.stats["skipped_points"] += len(bad)
        return points

    def ident(self, tags: Mapping[str, str], *, all_tags: bool = False) -> Ident | None:
        """The component these tags name, with the tags that describe it (not the series)."""
        return self.identify(tags, all_tags=all_tags)[0]

    def identify(
        self, tags: Mapping[str, str], *, all_tags: bool = False
    ) -> tuple[Ident | None, dict[str, str]]:
        """``ident`` and ``series_of`` at once, memoised per tag set."""
        key = (all_tags, *tags.items())
        hit = self._idents.get(key)
        if hit is not None:
            return hit
        resolved = self.rule.resolve(tags)
        ident = None
        if resolved is not None:
            keep = {k: v for k, v in tags.items() if all_tags or k in self._identity}
            keep.pop("__name__", None)
            ident = Ident(resolved[0], resolved[1], keep, f"{resolved[0]}|{series_key(keep)}")
        hit = (ident, self.series_of(tags))
        if len(self._idents) >= _MEMO_SIZE:
            self._idents.clear()
        self._idents[key] = hit
        return hit

    def no_component(self, tags: Mapping[str, str]) -> AdapterError:
        have = ", ".join(sorted(tags)[:8]) or "none"
        return self.error(
            f"no tag names the component for template {self.rule.template!r} or its fallbacks"
            f" (tags present: {have})"
        )

    def series_of(self, tags: Mapping[str, str]) -> dict[str, str]:
        """The tags that tell this series from its siblings (not identity or context)."""
        return {k: v for k, v in tags.items() if k not in self._identity}

    # -- internals -----------------------------------------------------------------------

    def _default(self, name: str, series: Mapping[str, str], kind: int, role: str) -> Emit | Join:
        if role == "bucket":
            rest = {k: v for k, v in series.items() if k != "le"}
            suffix = series_suffix(rest)
            target = f"{self.base_name(name, GAUGE)}.p99{suffix}"
            spec = ("quantile", target, 0.99, 1.0)
            return Join(f"hist:{name}{suffix}", series.get("le", ""), spec)
        if role == "quantile":
            rest = {k: v for k, v in series.items() if k != "quantile"}
            q = quantile_name(series.get("quantile")) or "q"
            return Emit(f"{self.base_name(name, GAUGE)}.{q}{series_suffix(rest)}")
        return Emit(self.base_name(name, kind) + series_suffix(series))

    def _action(
        self, name: str, series: dict[str, str], kind: int, unit: str, role: str
    ) -> tuple[Emit | Join, str]:
        """What to do with a series' points, and its counter key; memoised (pure)."""
        key = (name, kind, unit, role, *series.items())
        hit = self._actions.get(key)
        if hit is None:
            action = self.map_point(name, series, unit, role)
            if action is None:
                action = self._default(name, series, kind, role)
            hit = (action, series_key(series))
            if len(self._actions) >= _MEMO_SIZE:
                self._actions.clear()
            self._actions[key] = hit
        return hit

    def _process(
        self, groups: dict[tuple[str, int], dict[str, Any]], touched: set[JoinKey], p: Point
    ) -> None:
        ident, name, raw, ts, series, kind, interval_ms, start_ms, unit, role, whole = p
        value = to_number(raw)
        if value is None:
            self.stats["skipped_values"] += 1
            return
        action, skey = self._action(name, series, kind, unit, role)
        v: float | None
        if kind == GAUGE:
            v = float(value)
        else:
            if kind == COUNTER:
                v, status = self.counters.rate((ident.source, name, skey), ts, value, start_ms)
            else:
                v, status = self.counters.per_second(
                    (ident.source, name, skey), ts, value, interval_ms)
            if status != OK:
                self.stats["counter_" + status] += 1
        if isinstance(action, Emit):
            if v is not None:
                self._put(groups, ident.component, ident.host, ident.tags, ts,
                          {action.target: (v + action.offset) * action.scale})
            return
        jkey = (ident.source, action.key)
        if whole:
            touched.add(jkey)
        joined = self.joins.add(jkey, ts, action.part, v, action.spec, ident[:3], action.fixed)
        if joined:
            self._put_joined(groups, joined)

    def _put_joined(
        self, groups: dict[tuple[str, int], dict[str, Any]], joined: list[Joined]
    ) -> None:
        for component, ts, metrics, host, tags in joined:
            self._put(groups, component, host, tags, ts, metrics)

    def _put(
        self, groups: dict[tuple[str, int], dict[str, Any]], component: str, host: str,
        tags: dict[str, str], ts: int, metrics: dict[str, float],
    ) -> None:
        sample = groups.get((component, ts))
        if sample is None:
            sample = groups[(component, ts)] = {
                "component": component, "host": host, "ts": ts, "metrics": {},
                "tags": dict(tags),
            }
        out = sample["metrics"]
        for name, x in metrics.items():
            if math.isfinite(x):
                out[name] = float(x)
            else:
                self.stats["skipped_values"] += 1

    def _finish(self, groups: dict[tuple[str, int], dict[str, Any]]) -> list[dict[str, Any]]:
        samples = [s for s in groups.values() if s["metrics"]]
        self.stats["samples"] += len(samples)
        self.stats["joins_late"] = self.joins.late
        return samples
