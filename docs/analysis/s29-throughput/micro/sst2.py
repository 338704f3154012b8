from __future__ import annotations
import zlib
from zlib import adler32


def start_old(seen: bytearray, b: int, head: int) -> int:
    if b + b <= head:
        return head + sum(seen[:b]) if b else head
    return len(seen) - sum(seen[b:head])


def start_adler(seen: bytearray, b: int, head: int) -> int:
    if b + b <= head:
        return head + (adler32(seen[:b], 0) & 0xFFFF) if b else head
    return len(seen) - (adler32(seen[b:head], 0) & 0xFFFF)


def start_adler_mv(seen: bytearray, b: int, head: int) -> int:
    if b + b <= head:
        return head + (adler32(memoryview(seen)[:b], 0) & 0xFFFF) if b else head
    return len(seen) - (adler32(memoryview(seen)[b:head], 0) & 0xFFFF)


def start_adler_all(seen: bytearray, b: int, head: int) -> int:
    return head + (adler32(seen[:b], 0) & 0xFFFF) if b else head


def run(f: object, seen: bytearray, head: int, n: int) -> int:
    t = 0
    for i in range(n):
        t += f(seen, i % head, head)  # type: ignore[operator]
    return t
