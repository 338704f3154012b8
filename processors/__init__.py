"""The pure core: features, models, judging and the state format (no Kafka, Faust or HTTP).

Where ``make compiled`` (``tools/build_native.py``) has built this package's modules with
mypyc into ``build/native/`` and the build's record of the sources matches them, the
compiled modules are imported in place of the sources (the same outputs: docs/throughput.md,
s22); the setting ``pure_python`` (``FOREWARN_PURE_PYTHON=1``) keeps the sources. A stale
build is never used: one line on stderr says so.
"""

from __future__ import annotations

from pathlib import Path

from schemas import native_build  # the build's record checked once for both (s26)

NATIVE: Path | None = None  # where the compiled modules were taken from, if they were
if (_BUILT := native_build()) is not None:
    NATIVE = _BUILT / "processors"
    __path__.insert(0, str(NATIVE))
