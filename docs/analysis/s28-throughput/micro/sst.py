from __future__ import annotations
from bisect import bisect_left
import numpy as np


def start_old(seen: bytearray, b: int, head: int) -> int:
    if b + b <= head:
        return head + sum(seen[:b]) if b else head
    return len(seen) - sum(seen[b:head])


def start_bytes(seen: bytearray, b: int, head: int) -> int:
    hd = bytes(seen[:head])
    t = 0
    if b + b <= head:
        for j in range(b):
            t += hd[j]
        return head + t
    for j in range(b, head):
        t += hd[j]
    return len(seen) - t


def start_bytes_all(seen: bytearray, b: int, head: int) -> int:
    hd = bytes(seen)
    t = 0
    if b + b <= head:
        for j in range(b):
            t += hd[j]
        return head + t
    for j in range(b, head):
        t += hd[j]
    return len(seen) - t


def start_generic(seen: bytearray, b: int, head: int) -> int:
    t = 0
    if b + b <= head:
        for j in range(b):
            t += seen[j]
        return head + t
    for j in range(b, head):
        t += seen[j]
    return len(seen) - t


def highest_old(hi: "np.ndarray") -> float:
    return float(np.fmax.reduce(hi))


def highest_new(bins: list[float]) -> float:
    top = -1e308 * 10
    for v in bins:
        if v > top:
            top = v
    return top


def run(f: object, seen: bytearray, head: int, k: int) -> int:
    t = 0
    for i in range(k):
        t += f(seen, i % head, head)  # type: ignore[operator]
    return t


def highest_star(bins: list[float]) -> float:
    return max(-1e308 * 10, *bins)
