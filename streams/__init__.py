"""The Kafka side: the worker, the API, the benchmarks and the lab around the pure core.

The worker's per-sample glue (``streams/handler.py``, ``streams/runtime/checkpoint.py``) is
built with the core by ``make compiled`` (``tools/build_native.py``, #14 s29) and taken from
the build while ``processors`` is (``schemas.native_build``); otherwise the sources.
"""

from schemas import native_build as _native_build

if (_BUILT := _native_build()) is not None and (_BUILT / "streams").is_dir():
    __path__.insert(0, str(_BUILT / "streams"))
