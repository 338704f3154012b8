"""Offline migration of retired pickled snapshots (format 2) into the explicit format 3.

No running process reads format 2: :meth:`processors.pipeline.Pipeline.restore` refuses it,
and nothing on the live path imports this module. An operator who wants to keep model state
across the upgrade converts old snapshots once, on purpose, with :func:`migrate_v2`.

Even then the pickle is not trusted: the unpickler resolves only the globals a format-2
snapshot holds (the state classes of ``processors``, by class name, so a class that has since
moved still resolves; River's ``PageHinkley`` and ``Mean``; ``collections.deque``; numpy's
numeric arrays), ``getattr`` only for the bound method ``PageHinkley`` keeps, and numpy only
numeric dtypes. Anything else (``os.system``, ``builtins.eval``, an object array) is refused
before it is called. The result is re-encoded by :mod:`processors.stateformat`, which checks
every field against its schema.
"""

from __future__ import annotations

import functools
import io
import pickle  # noqa: S403 - offline migration of the retired format only, restricted below
import zlib
from collections import deque
from typing import Any

import numpy as np
from river import drift as river_drift
from river import stats as river_stats

from processors import stateformat
from schemas.errors import ContractError

_NUMERIC_KINDS = frozenset("fiub")
_PH_METHODS = frozenset({"_test_increase", "_test_decrease", "_test_both"})


def _safe_getattr(obj: object, name: str) -> Any:
    """``getattr`` as format 2 used it: PageHinkley's bound test method, nothing else."""
    if isinstance(obj, river_drift.PageHinkley) and name in _PH_METHODS:
        return getattr(obj, name)
    raise ContractError(f"format 2: getattr({type(obj).__name__}, {name!r}) refused")


def _safe_dtype(spec: object, *args: object) -> np.dtype[Any]:
    dtype = np.dtype(str(spec)) if isinstance(spec, str) else None
    if dtype is None or dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None:
        raise ContractError(f"format 2: dtype {spec!r} refused")
    return dtype


def _safe_frombuffer(buf: object, dtype: object, shape: object, order: object) -> np.ndarray:
    if (
        not isinstance(dtype, np.dtype)
        or dtype.hasobject
        or dtype.kind not in _NUMERIC_KINDS
        or dtype.fields is not None
        or not isinstance(buf, bytes | bytearray | memoryview)
        or not isinstance(shape, tuple)
        or not all(type(n) is int for n in shape)
    ):
        raise ContractError("format 2: only numeric arrays are allowed")
    arr: np.ndarray = np.frombuffer(buf, dtype=dtype).copy()
    out: np.ndarray = arr.reshape(shape, order="F" if order == "F" else "C")
    return out


def _allowed() -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {
        ("collections", "deque"): deque,
        ("builtins", "getattr"): _safe_getattr,
        ("numpy", "dtype"): _safe_dtype,
        ("numpy._core.numeric", "_frombuffer"): _safe_frombuffer,
        ("numpy.core.numeric", "_frombuffer"): _safe_frombuffer,
        ("river.drift.page_hinkley", "PageHinkley"): river_drift.PageHinkley,
        ("river.stats.mean", "Mean"): river_stats.Mean,
    }
    return out


def _processors_classes() -> dict[str, Any]:
    classes = {tag: ts.cls for tag, ts in stateformat.schema().items()}
    classes.update(stateformat.enums())
    return classes


@functools.cache
def _standin(cls: type) -> type:
    """What unpickles a class that has since taken ``__slots__`` (#14): format 2 pickled its
    objects' ``__dict__``, which pickle would put in a ``__dict__`` such a class lacks (or, for
    a frozen slotted dataclass, hand to a ``__setstate__`` expecting a list). The stand-in sets
    each attribute, then makes the object the class itself (the same layout)."""

    def setstate(self: Any, state: Any) -> None:
        object.__setattr__(self, "__class__", cls)
        own = getattr(cls, "__setstate__", None)  # the class's own reading of its pickled form
        form = list if own is not None and own.__name__ == "_dataclass_setstate" else dict
        if own is not None and type(state) is form:
            own(self, state)  # a dict for a class's own; a list for a frozen slotted dataclass
            return
        attrs, slots = state if type(state) is tuple and len(state) == 2 else (state, None)
        for part in (attrs, slots):
            for key, value in (part or {}).items():
                object.__setattr__(self, key, value)
        ts = stateformat.schema().get(cls.__name__)  # fields added since, at their defaults
        for key, spec in (ts.fields.items() if ts is not None else ()):
            if spec.default is not None and not hasattr(self, key):
                object.__setattr__(self, key, spec.default())

    return type(cls.__name__, (cls,), {"__slots__": (), "__setstate__": setstate})


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] == "processors":
            cls = _processors_classes().get(name)
            if cls is not None:
                slotted = isinstance(cls, type) and not cls.__dictoffset__
                return _standin(cls) if slotted else cls
        found = _allowed().get((module, name))
        if found is None:
            raise ContractError(f"format 2: global {module}.{name} refused")
        return found


def load_v2(blob: bytes) -> dict[str, Any]:
    """The payload of a format-2 snapshot, read by the restricted unpickler above."""
    try:
        raw = zlib.decompressobj().decompress(blob, stateformat.MAX_STATE_BYTES)
        payload = _Unpickler(io.BytesIO(raw)).load()
    except ContractError:
        raise
    except Exception as exc:  # corrupt bytes, a class that no longer takes its old state
        raise ContractError(f"format 2: unreadable: {type(exc).__name__}: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != 2:
        raise ContractError("format 2: not a format-2 snapshot")
    return payload


def migrate_v2(blob: bytes) -> bytes:
    """A format-2 snapshot, as the format-3 bytes that ``Pipeline.restore`` reads."""
    from processors.calibration import RiskLearner
    from processors.pagehinkley import PageHinkley
    from processors.pipeline import ComponentState

    payload = load_v2(blob)
    state, fleet = payload.get("state"), payload.get("fleet")
    if not isinstance(state, ComponentState) or not isinstance(fleet, RiskLearner | None):
        raise ContractError("format 2: the snapshot holds no component state")
    for outlook in state.outlooks.values():  # River's drift test, as the slotted one (#14)
        if isinstance(outlook.detector, river_drift.PageHinkley):
            outlook.detector = PageHinkley.from_river(outlook.detector)
    key = payload.get("key")
    return stateformat.encode(
        {"component": payload.get("component"), "key": key, "state": state, "fleet": fleet}
    )
