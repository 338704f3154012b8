"""Constant parameters held once per configuration, not once per model (#14, s17).

A model's parameters (``bins``, ``order``, ``k``, ``capacity``, ...) are the same for every
metric of every component a pipeline configures, and each took a slot (8 bytes) in each of
~40 objects a component. A class that takes its parameters from here keeps them in one slot,
``p``: a :class:`typing.NamedTuple` of them, one object for every equal set
(:func:`shared`), and reads each as before (``model.bins`` is ``model.p.bins``, a property
written out in the class or a base of it (s22: properties added after the class is made, as
``expose`` did until s21, are refused by a class mypyc compiles); setting one replaces ``p`` by
the shared copy with that value, for the few callers that do). The snapshot does not see the
difference: the parameters are written as the fields they were (``stateschema.attributes``
reads them by name) and read back into one shared tuple
(``stateformat``: a schema entry's ``params``).

>>> from typing import NamedTuple
>>> class P(NamedTuple):
...     bins: int = 8
...     margin: float = 0.25
>>> shared(P(8, 0.25)) is shared(P(8, 0.25)), shared(P(8, 0.25)) is shared(P(8.0, 0.25))
(True, False)
"""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["pickled", "shared", "shared_count"]

_P = TypeVar("_P", bound=tuple[Any, ...])
_LIMIT = 4096  # distinct sets kept (a forged state cannot grow this without bound)
_SHARED: dict[tuple[Any, ...], Any] = {}


def _key(params: tuple[Any, ...]) -> tuple[Any, ...]:
    """Equal only for the same values of the same types: ``8`` and ``8.0`` (written apart by
    msgpack), ``0.0`` and ``-0.0`` stay two sets."""
    return (type(params), *[(type(v), _exact(v) if type(v) is float else v) for v in params])


def _exact(v: float) -> float | str:
    """A float key equal only for the same float: the value itself, or for the two zeros and
    NaN (equal to another, or never) its ``hex()``; as ``hex()`` throughout, without making a
    string for the usual value (s27)."""
    return v if v != 0.0 and v == v else v.hex()


def shared(params: _P) -> _P:
    """The one object held for every set of parameters equal to ``params`` (``params``
    itself the first time; past ``_LIMIT`` sets, ``params`` unshared)."""
    key = _key(params)
    got: _P | None = _SHARED.get(key)
    if got is None:
        if len(_SHARED) >= _LIMIT:
            return params
        got = _SHARED[key] = params
    return got


def shared_count() -> int:
    """How many distinct sets are held (for tests and benches)."""
    return len(_SHARED)


def pickled(obj: Any) -> tuple[None, dict[str, Any]]:
    """``obj.__getstate__()`` for a slotted class with shared parameters: its parameters as
    the fields they were, then its other slots (what format 2 pickled; no parameter tuple
    class in a pickle, which ``processors.legacy_state`` would refuse)."""
    slots = [n for c in reversed(type(obj).__mro__) for n in c.__dict__.get("__slots__", ())]
    state: dict[str, Any] = dict(obj.p._asdict())
    state.update((n, getattr(obj, n)) for n in slots if n != "p" and hasattr(obj, n))
    return None, state
