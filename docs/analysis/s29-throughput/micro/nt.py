from __future__ import annotations
from typing import NamedTuple


class TP(NamedTuple):
    keep: int = 6
    factor: float = 5.0
    rate: float = 0.05
    min_rise: float = 0.25
    max_age: int = 240


def by_call(n: int) -> object:
    t = None
    for i in range(n):
        t = TP(6, 5.0, 0.05, 0.25, i)
    return t


def by_new(n: int) -> object:
    t = None
    make = tuple.__new__
    for i in range(n):
        t = make(TP, (6, 5.0, 0.05, 0.25, i))
    return t


def nothing(n: int) -> object:
    t = None
    for i in range(n):
        t = (6, 5.0, 0.05, 0.25, i)
    return t
