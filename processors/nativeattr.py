"""``mypyc_attr`` for the state classes, without needing ``mypy_extensions`` at run time (#14, s22).

The state classes carry ``@mypyc_attr(serializable=True)``: compiled by mypyc (``make
compiled``, docs/throughput.md s22) each is a native class whose ``__new__`` does not run
``__init__``, which the state reader (``processors.stateformat``) builds objects with.
Interpreted, the decorator does nothing. mypy and mypyc see ``mypy_extensions``' own (a dev
and build dependency); a run-time install without it gets the no-op below. This module is
never compiled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["mypyc_attr"]

if TYPE_CHECKING:
    from mypy_extensions import mypyc_attr as mypyc_attr
else:
    try:
        from mypy_extensions import mypyc_attr
    except ImportError:  # pragma: no cover - a run-time install without mypy

        def mypyc_attr(*attrs, **kwattrs):
            return lambda cls: cls
