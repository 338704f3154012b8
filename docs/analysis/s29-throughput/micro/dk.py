from __future__ import annotations
from typing import Any, Final

_T: Final[dict[str, Any]] = {"metric": "", "horizon_s": 0, "mean": 0.0, "lower": 0.0, "upper": 0.0}


def build(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        out.append({"metric": "cpu", "horizon_s": i, "mean": 0.5, "lower": 0.25, "upper": 0.75})
    return out


def tcopy(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        d = _T.copy()
        d["metric"] = "cpu"
        d["horizon_s"] = i
        d["mean"] = 0.5
        d["lower"] = 0.25
        d["upper"] = 0.75
        out.append(d)
    return out


def nothing(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        out.append(_T)
    return out
