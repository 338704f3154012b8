"""The pure core: features, models, judging and the state format (no Kafka, Faust or HTTP).

Where ``make compiled`` (``tools/build_native.py``) has built this package's modules with
mypyc into ``build/native/`` and the build's record of the sources matches them, the
compiled modules are imported in place of the sources (the same outputs: docs/throughput.md,
s22); the setting ``pure_python`` (``FOREWARN_PURE_PYTHON=1``) keeps the sources. A stale
build is never used: one line on stderr says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

NATIVE: Path | None = None  # where the compiled modules were taken from, if they were


def _native_build() -> Path | None:
    """The build's ``processors`` folder, if it is to be used."""
    if os.environ.get("FOREWARN_PURE_PYTHON", "").lower() not in ("", "0", "false", "no"):
        return None
    root = Path(__file__).resolve().parent.parent
    built = root / "build" / "native" / "processors"
    try:
        record = json.loads((built / "native.json").read_text())
    except (OSError, ValueError):
        return None  # not built (or built half way)
    stale = [p for p, h in record["sources"].items()
             if not (root / p).exists() or hashlib.sha256((root / p).read_bytes()).hexdigest() != h]
    if record["python"] != sys.version.split()[0] or stale:
        print(f"forewarn: the compiled build is stale ({(stale or ['another Python'])[0]}): "
              "running interpreted; `make compiled` rebuilds it", file=sys.stderr)
        return None
    return built


NATIVE = _native_build()
if NATIVE is not None:
    __path__.insert(0, str(NATIVE))
