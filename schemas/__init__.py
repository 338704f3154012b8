"""The Avro contract: schemas, the codec, the hot messages' fast paths.

:func:`native_build` is ``make compiled``'s build (``tools/build_native.py``), if it is to be
used: :mod:`processors` imports its compiled modules from it, and so does this package for
its two hot wire modules, :mod:`schemas.avrofast` and :mod:`schemas.batchwire` (#14, s26: the
same bytes); otherwise, and with ``FOREWARN_PURE_PYTHON=1``, the sources.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from pathlib import Path


@functools.cache
def native_build() -> Path | None:
    """``build/native/`` when its record matches every source it was built from (and the
    Python) and the setting ``pure_python`` is off; a stale build is never used: one line on
    stderr says so."""
    if os.environ.get("FOREWARN_PURE_PYTHON", "").lower() not in ("", "0", "false", "no"):
        return None
    root = Path(__file__).resolve().parent.parent
    built = root / "build" / "native"
    try:
        record = json.loads((built / "processors" / "native.json").read_text())
    except (OSError, ValueError):
        return None  # not built (or built half way)
    stale = [p for p, h in record["sources"].items()
             if not (root / p).exists() or hashlib.sha256((root / p).read_bytes()).hexdigest() != h]
    if record["python"] != sys.version.split()[0] or stale:
        print(f"forewarn: the compiled build is stale ({(stale or ['another Python'])[0]}): "
              "running interpreted; `make compiled` rebuilds it", file=sys.stderr)
        return None
    return built


if (_BUILT := native_build()) is not None and (_BUILT / "schemas").is_dir():
    __path__.insert(0, str(_BUILT / "schemas"))
