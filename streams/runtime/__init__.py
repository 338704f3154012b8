"""The Kafka runtime: the worker (Faust), the actuator, checkpoints, the embedded broker, acted
intervals, the preferences topic and the ingest loop. Imports the seams and the pure core; never
``streams.lab``, ``streams.bench``, ``streams.sim``, ``streams.app`` or ``streams.cli``."""

from schemas import native_build as _native_build

# checkpoint.py from ``make compiled``'s build while the core is (#14, s29)
if (_BUILT := _native_build()) is not None and (_BUILT / "streams" / "runtime").is_dir():
    __path__.insert(0, str(_BUILT / "streams" / "runtime"))
