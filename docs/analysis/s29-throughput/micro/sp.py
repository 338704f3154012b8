from __future__ import annotations
from typing import Any, NamedTuple


class OP(NamedTuple):
    kind: str = "seasonal"
    step_s: int = 60
    k: int = 10
    threshold: float = 15.0
    min_instances: int = 20
    alpha: float = 0.99


_A: dict[tuple[Any, ...], Any] = {}
_B: dict[tuple[Any, ...], Any] = {}


def _exact(v: float) -> float | str:
    return v if v != 0.0 and v == v else v.hex()


def key_old(params: tuple[Any, ...]) -> tuple[Any, ...]:
    return (type(params), *[(type(v), _exact(v) if type(v) is float else v) for v in params])


def key_flat(params: tuple[Any, ...]) -> tuple[Any, ...]:
    return (type(params), *[type(v) for v in params],
            *[_exact(v) if type(v) is float else v for v in params])


def shared_old(params: OP) -> OP:
    key = key_old(params)
    got = _A.get(key)
    if got is None:
        got = _A[key] = params
    return got


def shared_flat(params: OP) -> OP:
    key = key_flat(params)
    got = _B.get(key)
    if got is None:
        got = _B[key] = params
    return got


def run(f: Any, n: int) -> None:
    for i in range(n):
        f(OP("seasonal", 60, 10, 15.0, 20, 0.99))
