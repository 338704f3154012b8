"""What every backtest shares: JSON out (NaN-free, sorted, indented) and a process pool that
keeps the order of its tasks."""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import orjson


def clean_json(obj: Any) -> Any:
    """NaN and infinities become None (JSON has neither); tuples become lists."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean_json(v) for v in obj]
    return obj


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(clean_json(obj), option=orjson.OPT_INDENT_2
                                  | orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY))


def pmap(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], jobs: int) -> list[Any]:
    """``[fn(*t) for t in tasks]``, in that order, over ``jobs`` spawned processes."""
    if jobs <= 1 or len(tasks) <= 1:
        return [fn(*t) for t in tasks]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=ctx) as pool:
        return list(pool.map(fn, *zip(*tasks, strict=True)))
