"""``forewarn replay``: recorded metrics through the live code path, in event time, fast.

Every source becomes :class:`Message` values (raw bytes and a position) in a deterministic
order: a topic range (:func:`topic_messages`, in ``streams/lab/topicsource.py``), or samples
from a simulator run, NAB CSV files or generic CSV/Parquet tables encoded by
:func:`sample_messages`. :class:`Replay` feeds them to
:class:`streams.handler.MetricsHandler`, the very object the Faust worker calls, so live and
replay share decode, pipeline and encode.

Same input, same bytes: the pipeline reads no clock, the dead-letter clock is pinned to 0, and
messages are merged across partitions (or files) by ``(timestamp, key, partition)`` while each
partition (file) keeps its own order. At the end every open window is closed
(:meth:`MetricsHandler.flush`), which the live worker does only when later data arrives.
"""

from __future__ import annotations

import argparse
import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import orjson

from processors.pipeline import Pipeline, PipelineConfig
from schemas.codec import Codec
from schemas.errors import ConfigError
from streams.handler import MetricsHandler, Out
from streams.lab.message import Message
from streams.lab.topicsource import TopicRange, plan_range, topic_messages

__all__ = ["Message", "Replay", "TopicRange", "merge_samples", "nab_run", "nab_samples",
           "parse_time", "per_row_scores", "plan_range", "row_time", "sample_messages",
           "table_samples", "topic_messages", "write_json_lines"]

Sample = dict[str, Any]
JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


# -- sources: files and the simulator ----------------------------------------------------------


def sample_messages(samples: Iterable[Sample], codec: Codec, topic: str = "replay") -> Iterator[
    Message
]:
    """Each sample encoded as a ``MetricSample`` message (offsets count from 0)."""
    for offset, s in enumerate(samples):
        value = codec.encode("MetricSample", s, topic=topic)
        yield Message(value, str(s["component"]).encode(), topic, 0, offset, int(s["ts"]))


def merge_samples(streams: Sequence[Iterable[Sample]]) -> Iterator[Sample]:
    """Samples of several files in ``(ts, component)`` order; each file keeps its own order."""
    return heapq.merge(*streams, key=lambda s: (s["ts"], s["component"]))


def row_time(ts_ms: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], int]:
    """``(t0 + i * step, step)``: rows re-timed on a regular grid of the median step (ms, a
    whole number of seconds), so that with ``window_s = step`` each row has its own window."""
    diffs = np.diff(ts_ms)
    positive = diffs[diffs > 0]
    step = int(round(float(np.median(positive)) / 1000.0)) * 1000 if positive.size else 1000
    step = max(step, 1000)
    t0 = int(ts_ms[0]) if ts_ms.size else 0
    return t0 + step * np.arange(ts_ms.size, dtype=np.int64), step


def nab_samples(
    path: str | Path, component: str, metric: str = "value", *, regular: bool = True
) -> tuple[list[Sample], int]:
    """A NAB ``timestamp,value`` file as samples, and its step in ms. With ``regular``, row
    ``i`` is timed ``t0 + i * step`` (see :func:`row_time`); else its own timestamp."""
    from streams.lab.nabdata import read_series

    series = read_series(Path(path), component)
    ts, step = row_time(series.ts_ms)
    stamps = ts if regular else series.ts_ms
    return [
        {"component": component, "host": component, "ts": t, "metrics": {metric: v}, "tags": {}}
        for t, v in zip(stamps.tolist(), series.values.tolist(), strict=True)
    ], step


def parse_time(text: str) -> int:
    """Epoch ms from ``1767571200000`` or ISO 8601 (``2026-01-05T00:10:00Z``; naive = UTC)."""
    from datetime import UTC, datetime

    t = text.strip()
    if t.lstrip("-").isdigit():
        return int(t)
    try:
        dt = datetime.fromisoformat(t)
    except ValueError as exc:
        raise ConfigError(f"time {text!r}: use epoch ms or ISO 8601") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * 1000)


def _time_arg(text: str) -> int:
    try:
        return parse_time(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def table_samples(
    path: str | Path,
    component: str,
    *,
    ts_column: str = "ts",
    start_ms: int | None = None,
    step_ms: int | None = None,
) -> list[Sample]:
    """A table with a timestamp column and one column per metric (CSV, or Parquet when
    pyarrow is installed). With ``start_ms`` and ``step_ms`` the timestamp is a step index
    (``ts = start + index * step``, SMD's layout); otherwise epoch ms, epoch s (< 1e11) or
    ISO 8601. Empty or non-numeric cells are left out of the sample."""
    columns = _read_table(Path(path))
    if ts_column not in columns:
        raise ConfigError(f"{path}: no timestamp column {ts_column!r} (have {sorted(columns)})")
    stamps = columns.pop(ts_column)
    names = sorted(columns)
    out: list[Sample] = []
    for i, raw in enumerate(stamps):
        if start_ms is not None and step_ms is not None:
            ts = start_ms + round(float(raw)) * step_ms
        else:
            ts = _auto_ts(raw)
        metrics = {}
        for name in names:
            v = _number(columns[name][i])
            if v is not None:
                metrics[name] = v
        out.append({"component": component, "host": component, "ts": ts, "metrics": metrics,
                    "tags": {}})
    return out


def _read_table(path: Path) -> dict[str, list[Any]]:
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise ConfigError(f"{path}: Parquet needs pyarrow (pip install pyarrow)") from exc
        return {k: list(v) for k, v in pq.read_table(path).to_pydict().items()}
    import csv

    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        rows = [r for r in reader if r]
    return {h: [r[j] if j < len(r) else "" for r in rows] for j, h in enumerate(header)}


def _number(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _auto_ts(raw: object) -> int:
    v = _number(raw)
    if v is None:
        return parse_time(str(raw))
    return int(v) if abs(v) >= 1e11 else int(round(v * 1000))


# -- the replay itself -------------------------------------------------------------------------


class Replay:
    """One :class:`MetricsHandler` over a fresh :class:`Pipeline` (or the one given, e.g.
    restored from checkpoints); :meth:`outs` runs messages through it."""

    def __init__(
        self,
        config: PipelineConfig | None = None,
        codec: Codec | None = None,
        topic_name: Callable[[str], str] = lambda name: name,
        pipeline: Pipeline | None = None,
    ) -> None:
        self.codec = codec if codec is not None else Codec()
        pipeline = pipeline if pipeline is not None else Pipeline(config)
        self.handler = MetricsHandler(pipeline, self.codec, topic_name, wall_clock_ms=lambda: 0)
        self.risk_topic = topic_name("risk")

    def outs(self, messages: Iterable[Message]) -> Iterator[Out]:
        """Every message the handler emits, then those of the final flush."""
        handle = self.handler.handle
        for m in messages:
            yield from handle(m.value, m.key, m.topic, m.partition, m.offset)
        yield from self.handler.flush()

    def risk(self, messages: Iterable[Message]) -> Iterator[dict[str, Any]]:
        """The ``RiskScore`` records emitted, decoded from the bytes the worker would send."""
        for out in self.outs(messages):
            if out.topic == self.risk_topic:
                yield self.codec.decode(out.value, ("RiskScore",))[1]


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


def write_json_lines(records: Iterable[Mapping[str, Any]], fh: Writable) -> int:
    """One record per line, keys sorted (orjson): the same records give the same bytes."""
    n = 0
    for rec in records:
        fh.write(orjson.dumps(rec, option=JSON_OPTIONS))
        n += 1
    return n


def per_row_scores(
    ts_ms: npt.ArrayLike, records: Iterable[Mapping[str, Any]], window_ms: int, field: str
) -> npt.NDArray[np.float64]:
    """Each row's ``field`` (``anomaly`` or ``risk``) from the record of the window holding
    its timestamp; a row whose window never closed (a rejected sample) keeps the previous
    row's score (0 before the first)."""
    by_end = {int(r["ts"]): float(r[field]) for r in records}
    out = np.empty(np.asarray(ts_ms).size, dtype=np.float64)
    last = 0.0
    for i, t in enumerate(np.asarray(ts_ms, dtype=np.int64).tolist()):
        last = by_end.get(t - t % window_ms + window_ms, last)
        out[i] = last
    return out


def nab_run(
    path: str | Path, base: PipelineConfig, *, component: str, metric: str = "value",
    field: str = "anomaly",
) -> tuple[npt.NDArray[np.float64], list[dict[str, Any]]]:
    """Per-row NAB scores of one file and the risk records behind them.

    Rows are re-timed on the file's median step and the window is that step (lateness 0), so
    row ``i`` alone fills window ``i``; its score is that window's ``field``, computed when the
    window closes from rows ``0..i`` only."""
    samples, step_ms = nab_samples(path, component, metric)
    config = replace(base, window_s=step_ms // 1000, lateness_s=0)
    replay = Replay(config)
    records = list(replay.risk(sample_messages(samples, replay.codec)))
    ts = np.array([s["ts"] for s in samples], dtype=np.int64)
    return per_row_scores(ts, records, step_ms, field), records
