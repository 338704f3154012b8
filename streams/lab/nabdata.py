"""NAB's files as plain values: series, windows and profiles in, results files out.

Layout read (``nab_dir``): ``data/<category>/<file>.csv`` (``timestamp,value``),
``combined_windows.json`` and ``profiles.json``. Names are NAB's relative paths,
``"<category>/<file>.csv"``, as in ``combined_windows.json``. Timestamps are naive
``YYYY-MM-DD HH:MM:SS[.ffffff]`` strings, read as UTC and turned into ``int`` milliseconds.

Layout written: ``<out_dir>/results/<category>/<file>.csv`` with header
``timestamp,value,anomaly_score``.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from streams.lab.scoring.nab import Profile, profiles_from_json

_TS_FORMAT = "%Y-%m-%d %H:%M:%S"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, eq=False)
class Series:
    """One NAB data file: its timestamps as written and as ``int`` ms, and its values."""

    name: str
    timestamps: tuple[str, ...]
    ts_ms: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


def parse_ts_ms(text: str) -> int:
    """``"2014-04-10 07:15:00[.ffffff]"`` (naive, read as UTC) to ms since the epoch."""
    dt = datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)
    # Integer arithmetic, so no float rounding; sub-millisecond digits are truncated.
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def format_ts_ms(ts_ms: int) -> str:
    """ms since the epoch to NAB's ``YYYY-MM-DD HH:MM:SS`` (UTC; sub-second part dropped)."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime(_TS_FORMAT)


def read_series(path: Path, name: str) -> Series:
    """One ``timestamp,value`` CSV file."""
    stamps: list[str] = []
    values: list[float] = []
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["timestamp", "value"]:
            raise ValueError(f"{path}: expected header 'timestamp,value', got {header!r}")
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                stamps.append(row[0].strip())
                values.append(float(row[1]))
            except (IndexError, ValueError) as exc:
                raise ValueError(f"{path}:{line_no}: bad row {row!r}: {exc}") from exc
    ts = np.fromiter((parse_ts_ms(s) for s in stamps), dtype=np.int64, count=len(stamps))
    return Series(name, tuple(stamps), ts, np.asarray(values, dtype=np.float64))


def load_corpus(nab_dir: str | Path) -> dict[str, Series]:
    """Every ``data/<category>/<file>.csv`` under ``nab_dir``, keyed ``"<category>/<file>.csv"``,
    in sorted order."""
    data = Path(nab_dir) / "data"
    if not data.is_dir():
        raise FileNotFoundError(f"{data}: no NAB data folder (expected data/<category>/*.csv)")
    out: dict[str, Series] = {}
    for path in sorted(data.glob("*/*.csv")):
        name = f"{path.parent.name}/{path.name}"
        out[name] = read_series(path, name)
    return out


def load_windows(nab_dir: str | Path) -> dict[str, list[tuple[int, int]]]:
    """``combined_windows.json`` as ``{name: [(start_ms, end_ms), ...]}`` (inclusive)."""
    path = Path(nab_dir) / "combined_windows.json"
    raw = json.loads(path.read_text())
    return {
        name: [(parse_ts_ms(start), parse_ts_ms(end)) for start, end in wins]
        for name, wins in raw.items()
    }


def load_profiles(nab_dir: str | Path) -> dict[str, Profile]:
    """``profiles.json`` as :class:`~streams.lab.scoring.nab.Profile` values."""
    return profiles_from_json(json.loads((Path(nab_dir) / "profiles.json").read_text()))


def write_results(
    out_dir: str | Path,
    name: str,
    timestamps: Sequence[str] | Sequence[int] | npt.NDArray[np.int64],
    values: npt.ArrayLike,
    scores: npt.ArrayLike,
) -> Path:
    """Write ``<out_dir>/results/<category>/<file>.csv`` (``timestamp,value,anomaly_score``).

    ``timestamps`` are NAB strings, written as given, or ``int`` ms, written as
    ``YYYY-MM-DD HH:MM:SS``. Returns the path written.
    """
    category, _, file_name = name.partition("/")
    if not category or not file_name or "/" in file_name:
        raise ValueError(f"name {name!r} must be '<category>/<file>.csv'")
    vals = np.asarray(values, dtype=np.float64)
    scs = np.asarray(scores, dtype=np.float64)
    if not len(timestamps) == vals.size == scs.size:
        raise ValueError(
            f"{name}: {len(timestamps)} timestamps, {vals.size} values, {scs.size} scores"
        )
    path = Path(out_dir) / "results" / category / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["timestamp", "value", "anomaly_score"])
        for ts, v, s in zip(timestamps, vals.tolist(), scs.tolist(), strict=True):
            stamp = ts if isinstance(ts, str) else format_ts_ms(int(ts))
            writer.writerow([stamp, _num(v), _num(s)])
    return path


def _num(x: float) -> str:
    return repr(x) if math.isfinite(x) else str(x)
