"""The state an adapter keeps between messages: counter last values (for rates) and
half-joined derived metrics. Both are bounded and JSON-ready for checkpoints."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

FIRST, OK, RESET, STALE = "first", "ok", "reset", "stale"


class CounterState:
    """The last observation of each cumulative series, to turn counters into rates.

    Keyed by (source, metric, series); at most ``max_series`` entries, least recently
    seen evicted first. A lower value than the last one is a reset: the rate counts from 0.
    A changed start time (OTel ``startTimeUnixNano``) is a reset too. The first observation
    of a series, and one not newer than the last, give no rate.
    """

    def __init__(self, max_series: int = 100_000) -> None:
        self.max_series = max_series
        self._last: OrderedDict[tuple[str, str, str], tuple[int, int | float, int | None]]
        self._last = OrderedDict()

    def __len__(self) -> int:
        return len(self._last)

    def _store(self, key: tuple[str, str, str], entry: tuple[int, int | float, int | None]) -> None:
        if type(entry[1]) is int and not -(2**63) <= entry[1] < 2**64:
            entry = (entry[0], float(entry[1]), entry[2])  # keep the state JSON-ready
        last = self._last
        last[key] = entry
        last.move_to_end(key)
        if len(last) > self.max_series:
            last.popitem(last=False)

    def rate(
        self, key: tuple[str, str, str], ts_ms: int, value: int | float, start_ms: int | None = None
    ) -> tuple[float | None, str]:
        """Per-second rate since the last observation, and what happened (first/ok/reset/stale)."""
        prev = self._last.get(key)
        if prev is None:
            self._store(key, (ts_ms, value, start_ms))
            return None, FIRST
        pts, pval, pstart = prev
        if ts_ms <= pts:
            return None, STALE
        self._store(key, (ts_ms, value, start_ms))
        restarted = start_ms is not None and pstart is not None and start_ms != pstart
        if value < pval or restarted:
            since = max(pts, start_ms) if restarted and start_ms is not None else pts
            return value * 1000.0 / max(ts_ms - since, 1), RESET
        return (value - pval) * 1000.0 / (ts_ms - pts), OK

    def per_second(
        self, key: tuple[str, str, str], ts_ms: int, value: int | float, interval_ms: int | None
    ) -> tuple[float | None, str]:
        """Rate of an increment over ``interval_ms``, or over the time since the series' last
        increment when the interval is unknown (none for the first)."""
        prev = self._last.get(key)
        self._store(key, (ts_ms, value, None))
        if interval_ms is None or interval_ms <= 0:
            if prev is None:
                return None, FIRST
            interval_ms = ts_ms - prev[0]
            if interval_ms <= 0:
                return None, STALE
        return value * 1000.0 / interval_ms, OK

    def state(self) -> list[list[Any]]:
        return [[*k, ts, v, s] for k, (ts, v, s) in self._last.items()]

    def load_state(self, rows: Iterable[list[Any]]) -> None:
        self._last.clear()
        for c, m, s, ts, v, start in rows:
            self._store((c, m, s), (ts, v, start))


# ---------------------------------------------------------------------------------- joins


def bucket_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile over (upper bound, cumulative count) pairs."""
    bs = sorted(buckets)
    if len(bs) < 2 or bs[-1][0] != math.inf:
        return None
    run = 0.0
    for i, (le, c) in enumerate(bs):  # make counts monotonic, as Prometheus does
        run = max(run, c)
        bs[i] = (le, run)
    total = bs[-1][1]
    if total <= 0:
        return None
    rank = q * total
    i = next(i for i, (_, c) in enumerate(bs) if c >= rank)
    le, c = bs[i]
    if le == math.inf:
        return bs[-2][0]
    lower, below = (0.0, 0.0) if i == 0 else bs[i - 1]
    if i == 0 and le <= 0:
        return le
    return lower + (le - lower) * (rank - below) / (c - below) if c > below else le


def _agg_sum(v: dict[Any, float], target: str) -> dict[str, float]:
    return {target: math.fsum(v.values())}


def _agg_max(v: dict[Any, float], target: str, scale: float) -> dict[str, float]:
    return {target: max(v.values()) * scale}


def _agg_cpu(v: dict[Any, float], mode: str) -> dict[str, float]:
    """Mean over CPUs of one mode's share of time (utilisation, or seconds per second)."""
    share = min(max(math.fsum(v.values()) / len(v), 0.0), 1.0)
    out = {f"cpu.{mode}": share}
    if mode == "idle":
        out["cpu.util"] = 1.0 - share
    return out


def _agg_used_pct(v: dict[Any, float], avail: str, total: str, target: str) -> dict[str, float]:
    a, t = v.get(avail), v.get(total)
    if a is None or not t:
        return {}
    return {target: min(max(100.0 * (1.0 - a / t), 0.0), 100.0)}


def _agg_share_pct(v: dict[Any, float], part: str, target: str) -> dict[str, float]:
    whole = math.fsum(v.values())
    return {target: 100.0 * v[part] / whole} if part in v and whole > 0 else {}


def _agg_fs_pct(v: dict[Any, float], target: str) -> dict[str, float]:
    """Fullest filesystem: parts (mountpoint, avail|size|used|free)."""
    mounts: dict[Any, dict[str, float]] = {}
    for (mount, role), x in v.items():
        mounts.setdefault(mount, {})[role] = x
    pcts = []
    for m in mounts.values():
        if m.get("size"):
            pcts.append(100.0 * (1.0 - m.get("avail", m["size"]) / m["size"]))
        elif "used" in m and m["used"] + m.get("free", 0.0) > 0:
            pcts.append(100.0 * m["used"] / (m["used"] + m.get("free", 0.0)))
    return {target: min(max(max(pcts), 0.0), 100.0)} if pcts else {}


def _le(part: Any) -> float | None:
    try:
        return float(part[-1] if isinstance(part, tuple) else part)
    except (TypeError, ValueError):
        return None


def _agg_quantile(v: dict[Any, float], target: str, q: float, scale: float) -> dict[str, float]:
    """Quantile of bucket rates summed over series; parts are le or (series, le)."""
    by_le: dict[float, float] = {}
    for part, x in v.items():
        le = _le(part)
        if le is not None and not math.isnan(le):
            by_le[le] = by_le.get(le, 0.0) + x
    value = bucket_quantile(q, by_le.items())
    return {} if value is None else {target: value * scale}


AGGREGATES: dict[str, Callable[..., dict[str, float]]] = {
    "sum": _agg_sum, "max": _agg_max, "cpu": _agg_cpu, "used_pct": _agg_used_pct,
    "share_pct": _agg_share_pct, "fs_pct": _agg_fs_pct, "quantile": _agg_quantile,
}
Part = str | tuple[str, ...]
JoinKey = tuple[str, str]  # (source, what is being joined)
# what a closed round gives: component, ts, metrics, host, tags
Joined = tuple[str, int, dict[str, float], str, dict[str, str]]


def _tupled(x: Any) -> Any:
    return tuple(_tupled(i) for i in x) if isinstance(x, list) else x


class Joiner:
    """Joins the series behind one derived metric (mean over CPUs, sum over interfaces,
    available/total, histogram buckets), which often arrive in separate messages.

    Parts within ``tolerance_ms`` of a round's first timestamp form one round. A round is
    complete when it holds every part of the previous round (or the fixed set it was given),
    and is then aggregated at once; a later round closes an incomplete one. Parts that
    arrive after their round closed are dropped (``late``) but learnt for the next round.
    ``settle`` closes rounds with nothing to learn from, when a message holds a whole scrape.
    A part with value None counts for completeness only (a counter's first observation).
    """

    def __init__(self, tolerance_ms: int = 500, max_keys: int = 100_000) -> None:
        self.tolerance_ms = tolerance_ms
        self.max_keys = max_keys
        self.late = 0
        self.evicted = 0
        # key -> [ts, {part: value}, spec, (component, host, tags) of the sample to emit]
        self._open: OrderedDict[JoinKey, list[Any]] = OrderedDict()
        # key -> [parts of the last round, its ts]
        self._seen: OrderedDict[JoinKey, list[Any]] = OrderedDict()

    def add(
        self, key: JoinKey, ts: int, part: Part, value: float | None, spec: tuple[Any, ...],
        sink: tuple[str, str, dict[str, str]], fixed: frozenset[Part] | None = None,
    ) -> list[Joined]:
        out: list[Joined] = []
        tol = self.tolerance_ms
        seen = self._seen.get(key)
        if seen is not None and ts <= seen[1] + tol:
            seen[0].add(part)
            self.late += 1
            return out
        r = self._open.get(key)
        if r is not None and ts > r[0] + tol:
            self._close(key, out)
            seen, r = self._seen.get(key), None
        elif r is not None and ts < r[0] - tol:
            self.late += 1
            return out
        if r is None:
            r = self._open[key] = [ts, {}, spec, sink]
            if len(self._open) > self.max_keys:
                self._open.popitem(last=False)
                self.evicted += 1
        r[1][part] = value
        expected = fixed if fixed is not None else (seen[0] if seen is not None else None)
        if expected is not None and r[1].keys() >= expected:
            self._close(key, out)
        return out

    def _close(self, key: JoinKey, out: list[Joined]) -> None:
        ts, parts, spec, (component, host, tags) = self._open.pop(key)
        self._seen[key] = [set(parts), ts]
        self._seen.move_to_end(key)
        if len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)
        values = {p: x for p, x in parts.items() if x is not None}
        if values:
            metrics = AGGREGATES[spec[0]](values, *spec[1:])
            if metrics:
                out.append((component, ts, metrics, host, tags))

    def settle(self, keys: Iterable[JoinKey]) -> list[Joined]:
        out: list[Joined] = []
        for key in keys:
            if key in self._open and key not in self._seen:
                self._close(key, out)
        return out

    def flush(self) -> list[Joined]:
        out: list[Joined] = []
        for key in list(self._open):
            self._close(key, out)
        return out

    def state(self) -> dict[str, Any]:
        return {
            "open": [[list(k), ts, list(p.items()), list(spec), list(sink)]
                     for k, (ts, p, spec, sink) in self._open.items()],
            "seen": [[list(k), list(parts), ts] for k, (parts, ts) in self._seen.items()],
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._open.clear()
        self._seen.clear()
        for k, ts, parts, spec, sink in state.get("open", []):
            self._open[tuple(k)] = [ts, {_tupled(p): x for p, x in parts}, tuple(spec),
                                    tuple(sink)]
        for k, parts, ts in state.get("seen", []):
            self._seen[tuple(k)] = [{_tupled(p) for p in parts}, ts]
