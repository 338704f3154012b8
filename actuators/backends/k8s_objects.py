"""What the Kubernetes backend (``actuators/backends/kubernetes.py``) knows of the API's
objects: workload targets (``namespace/kind/name``), a container's original request and limit,
resource quantities shifted by an amount, and the API server's errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from kubernetes.client.exceptions import ApiException
from kubernetes.utils import parse_quantity as _untyped_parse_quantity

from actuators.pool import DEFAULT_RESOURCES
from schemas.errors import BackendError

# the official client ships no type hints: its quantity parser is typed here, at our boundary
parse_quantity: Callable[[str], Decimal] = _untyped_parse_quantity

SUPPORTED = ("REPLICAS", "CPU_QUOTA", "MEMORY_HIGH")
KINDS = ("deployment", "statefulset")
MI = 1024 * 1024
LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
NAMESPACE = re.compile(rf"{LABEL}")
NAME = re.compile(rf"{LABEL}(\.{LABEL})*")
# resource -> (container resource name, per-unit step of ``amount`` in the quantity's base unit)
RESIZED = {"CPU_QUOTA": ("cpu", Decimal("0.001")), "MEMORY_HIGH": ("memory", Decimal(MI))}
UNITS = {r: DEFAULT_RESOURCES[r].unit for r in SUPPORTED}  # the units amounts are read in


@dataclass(frozen=True)
class Target:
    """One workload: ``namespace/kind/name`` with kind ``deployment`` or ``statefulset``."""

    namespace: str
    kind: str
    name: str

    @classmethod
    def parse(cls, text: str, default_namespace: str) -> Target:
        """``ns/kind/name`` or ``kind/name``; ValueError saying what is wrong."""
        parts = str(text).split("/")
        if len(parts) == 2:
            parts = [default_namespace, *parts]
        if len(parts) != 3:
            raise ValueError(f"{text!r} is not namespace/kind/name")
        ns, kind, name = parts
        if kind not in KINDS:
            raise ValueError(f"{text!r}: kind {kind!r} is not one of {', '.join(KINDS)}")
        if not (NAMESPACE.fullmatch(ns) and len(ns) <= 63):
            raise ValueError(f"{text!r}: namespace {ns!r} is not a DNS-1123 label")
        if not (NAME.fullmatch(name) and len(name) <= 253):
            raise ValueError(f"{text!r}: name {name!r} is not a DNS-1123 subdomain")
        return cls(ns, kind, name)

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Original:
    """A container's request and limit of one resource before forewarn resized it."""

    uid: str
    container: str
    request: str | None
    limit: str | None


def missing(exc: BackendError) -> bool:
    """Whether the API answered 404: the object is gone."""
    return isinstance(exc.__cause__, ApiException) and exc.__cause__.status == 404


def api_error(what: str, exc: BaseException) -> BackendError:
    """A BackendError that says what failed and how the API server answered."""
    if isinstance(exc, ApiException):
        message = ""
        try:
            message = str(json.loads(exc.body or "{}").get("message", ""))
        except (ValueError, AttributeError):
            message = str(exc.body or "")[:200]
        return BackendError(f"{what}: API {exc.status} {exc.reason}" +
                            (f": {message}" if message else ""))
    return BackendError(f"{what}: cannot reach the API server: {type(exc).__name__}: {exc}")


def shift(quantity: str, resource: str, amount: float) -> str:
    """``quantity`` plus ``amount`` (millicores for cpu, MiB for memory), as a quantity."""
    key, step = RESIZED[resource]
    value = parse_quantity(quantity) + Decimal(str(amount)) * step
    whole = int((value * (1000 if key == "cpu" else 1)).to_integral_value(ROUND_HALF_UP))
    if whole <= 0:
        raise BackendError(f"{key} {quantity} {amount:+g} {UNITS[resource]} would not be "
                           "positive")
    if key == "cpu":
        return f"{whole}m"
    return f"{whole // MI}Mi" if whole % MI == 0 else str(whole)
