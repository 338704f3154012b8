"""The one reader of what an allocator acts on in a RiskScore (issue #15, s20).

A RiskScore's ``risk`` and ``anomaly`` are the alarm: what people, risk-topic consumers and
the breach scorer read, and what learnt discounts (the forecast records) and the novelty
suppressor's ``hold`` may lower. Its ``act`` (``null`` where it equals them) is the risk
before those discounts and the anomaly before the hold (:mod:`processors.actsignal`). Every
allocator (the engine's grants and releases and its sizing, the sizers' override, the fleet
and right-sizing sizers) reads a score through :func:`signal`, so none of them moves with the
alarm's discounts; a score without ``act`` (written before s20, or by another producer) is
read as its ``risk`` and ``anomaly``, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["signal"]


def signal(score: Mapping[str, Any]) -> tuple[float, float]:
    """``(risk, anomaly)`` an allocator acts on: ``act``'s if present, else the score's own
    (a missing or null value reads 0.0)."""
    act = score.get("act")
    src = act if isinstance(act, Mapping) else score
    return float(src.get("risk") or 0.0), float(src.get("anomaly") or 0.0)
