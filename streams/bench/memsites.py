"""Where a component's memory goes: ``python -m streams.bench.memsites [--components K]``.

``K`` components restored as :mod:`streams.bench.memory` restores them (one warm checkpoint
decoded per component, then a sample each), with ``tracemalloc`` on: the bytes per component
by allocation site (file:line), then by *state path* — a walk of every component's state
graph, each object counted once (objects shared between components, such as interned names
and equal numbers of one decode, count once for all), summed by the attribute path that
reaches it first (``.learner.bn.tables``: the count tables of the component's Bayes net;
``[]`` a map's values or a sequence's items), and by that path and type: ``sys.getsizeof``
of each object, which leaves out an instance's attribute values array (8 bytes an attribute;
the walk runs after tracemalloc has measured, as it makes instance dicts). The tracemalloc
total is the exact one; the walk says whose it is.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import sys
import tracemalloc
from array import array
from collections import deque
from typing import Any

import numpy as np

_LEAVES = (int, float, str, bytes, bytearray, array, np.ndarray)


def _children(obj: Any, path: str) -> list[tuple[Any, str]]:
    kind = type(obj)
    if kind is dict:
        return [(v, path + "[]") for v in obj.values()] + [(k, path + "{}") for k in obj]
    if kind in (list, tuple, deque, set, frozenset):
        return [(v, path + "[]") for v in obj]
    names = [n for c in reversed(kind.__mro__) for n in c.__dict__.get("__slots__", ())]
    names += list(getattr(obj, "__dict__", {}))
    return [(getattr(obj, k), f"{path}.{k}") for k in names if hasattr(obj, k)]


def by_path(roots: list[Any]) -> collections.Counter[tuple[str, str]]:
    """Bytes by ``(path, type)`` over the state graphs of ``roots`` (each object once)."""
    seen: set[int] = set()
    out: collections.Counter[tuple[str, str]] = collections.Counter()
    stack: list[tuple[Any, str]] = [(r, "") for r in roots]
    while stack:
        obj, path = stack.pop()
        if obj is None or type(obj) in (bool, type) or id(obj) in seen:
            continue
        if type(obj) is int and -5 <= obj <= 256:
            continue
        seen.add(id(obj))
        out[(path, type(obj).__name__)] += sys.getsizeof(obj)
        if type(obj) in _LEAVES or callable(obj):
            continue
        stack += _children(obj, path)
    return out


def measure(count: int = 200, top: int = 25, warm_s: int = 3600) -> dict[str, Any]:
    """The breakdown of ``count`` restored components (bytes per component), each a decode
    of one component warmed on ``warm_s`` of the ``fleet`` data."""
    from streams.bench.memory import restore_many, warm

    pipe, snapshot, last, _ = warm(warm_s)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    restore_many(pipe, snapshot, last, count)
    gc.collect()
    stats = tracemalloc.take_snapshot().compare_to(before, "lineno")
    tracemalloc.stop()
    sites = [(f"{s.traceback[0].filename.rsplit('/', 2)[-2]}/"
              f"{s.traceback[0].filename.rsplit('/', 1)[-1]}:{s.traceback[0].lineno}",
              s.size_diff / count) for s in stats[:top]]
    paths = by_path([pipe._states[c] for c in pipe.components()])
    rolled: collections.Counter[str] = collections.Counter()
    for (path, _), size in paths.items():
        rolled[".".join(path.replace("[]", "").replace("{}", "").split(".")[:4])] += size
    return {
        "components": count,
        "tracemalloc_bytes_per_component": sum(s.size_diff for s in stats) / count,
        "walk_bytes_per_component": sum(paths.values()) / count,
        "by_site": sites,
        "by_path": [(p, v / count) for p, v in rolled.most_common(top)],
        "by_path_and_type": [(f"{p}:{t}", v / count) for (p, t), v in paths.most_common(top)],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.bench.memsites")
    p.add_argument("--components", type=int, default=200)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--warm-s", type=int, default=3600,
                   help="event time the one component is warmed on before it is restored")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    got = measure(args.components, args.top, args.warm_s)
    if args.json:
        print(json.dumps(got))
        return 0
    print(f"{args.components} restored components, bytes per component: tracemalloc "
          f"{got['tracemalloc_bytes_per_component']:,.0f}, walk "
          f"{got['walk_bytes_per_component']:,.0f}")
    for title in ("by_site", "by_path", "by_path_and_type"):
        print(f"-- {title}")
        for name, size in got[title]:
            print(f"{size:9,.0f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
