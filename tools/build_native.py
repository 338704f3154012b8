"""Build the pure core's mypyc extension (``make compiled``; issue #14, docs/throughput.md s22).

Compiles the modules of ``processors/`` (``modules()``: all but the package files, the
offline pickle migration and the ``mypyc_attr`` shim; since s26 the two pipelines too, as
classes interpreted code may subclass), the worker's two hot wire modules
(``schemas/avrofast.py``, ``schemas/batchwire.py``; s26) and its per-sample glue (the handler,
``streams/handler.py``, and ``CheckpointedPipeline``, ``streams/runtime/checkpoint.py``; s29)
with mypyc into ``build/native/``
(git-ignored), one extension per module (``separate=True``; gcc runs ``--jobs`` at a time),
copies the package's data files (``defaults.toml``) beside them, and records each source's
SHA-256 (``build/native/processors/native.json``).
``processors/__init__.py`` puts the build in front of the sources on import when the record
matches the sources and the setting ``pure_python`` (``FOREWARN_PURE_PYTHON=1``) is off; a
stale build is never used (one line on stderr says so).

Where there is no C compiler, or not the pinned mypy (the ``build`` extra), this prints one
line and exits 0: forewarn then runs interpreted, with the same outputs. Three work-arounds
for mypyc 2.4.1 are applied here, at build time (docs/throughput.md s20, s21, s28):

* a function's text signature that ``inspect.Signature`` refuses to validate crashed the
  build: signatures are made without validation where validation fails;
* a class with ``@mypyc_attr(serializable=True)`` gets an empty ``tp_init``, so ``Cls(args)``
  called from interpreted code never ran ``__init__``: ``tp_init`` is made to run it;
* its incremental cache loses classes' bitmap attributes (``ValueError`` when a changed
  module reads a float attribute of a class loaded from it): the built modules' cached IR is
  dropped and they are analysed again, the libraries' cache kept (``forget_ir``; s28: 173 s
  where a build from scratch took 12-21 min here).

    python tools/build_native.py [--jobs N] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import shutil
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

MYPY_PIN = "2.4.1"  # the work-arounds below are for this version (pyproject's build extra)
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "native"
RECORD = OUT / "processors" / "native.json"
LEFT_OUT = {  # not compiled, and why
    "processors/__init__.py": "the loader",
    "processors/batch/__init__.py": "a package's",
    "processors/legacy_state.py": "assigns __class__ and makes subclasses at run time",
    "processors/nativeattr.py": "the mypyc_attr shim: run-time only",
}


# the worker's hot wire modules, built with the core since s26 (``schemas/__init__.py`` takes
# them from the build while ``processors`` does)
WIRE = ("schemas/avrofast.py", "schemas/batchwire.py")
# the worker's per-sample glue, built with the core since s29 (``streams/__init__.py`` and
# ``streams/runtime/__init__.py`` take them from the build while ``processors`` does)
GLUE = ("streams/handler.py", "streams/runtime/checkpoint.py")


def modules() -> list[str]:
    """The sources compiled, relative to the repository root, sorted."""
    paths = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "processors").rglob("*.py"))
    return [p for p in paths if p not in LEFT_OUT] + list(WIRE) + list(GLUE)


def data_files() -> list[str]:
    """The package's files that are not code (``processors/defaults.toml``)."""
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "processors").rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc", ".so")
                  and "__pycache__" not in p.parts)


def digests(paths: list[str]) -> dict[str, str]:
    return {p: hashlib.sha256((ROOT / p).read_bytes()).hexdigest() for p in paths}


def why_not() -> str | None:
    """Why this machine cannot build (``None``: it can)."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        return f"no C compiler ({cc!r} not found)"
    if not Path(sysconfig.get_paths()["include"], "Python.h").exists():
        return "no Python headers (Python.h)"
    try:
        from mypy.version import __version__
    except ImportError:
        return "mypy not installed (pip install -e '.[build]')"
    if __version__.split("+")[0] != MYPY_PIN:
        return f"mypy {__version__}, the build is pinned to {MYPY_PIN} (pip install -e '.[build]')"
    return None


def _lenient_signatures() -> None:
    sig = inspect.Signature

    class Lenient(sig):  # type: ignore[misc, valid-type]
        def __init__(self, parameters: Any = None, *, return_annotation: Any = sig.empty,
                     __validate_parameters__: bool = True) -> None:
            try:
                super().__init__(parameters, return_annotation=return_annotation)
            except ValueError:
                super().__init__(parameters, return_annotation=return_annotation,
                                 __validate_parameters__=False)

    inspect.Signature = Lenient  # type: ignore[misc]


def _tp_init_runs_init() -> None:
    from mypyc.codegen import emitclass

    original = emitclass.generate_init_for_class

    def init_for_class(cl: Any, init_fn: Any, emitter: Any) -> Any:
        if cl.is_serializable() and not (cl.allow_interpreted_subclasses or cl.builtin_base
                                         or cl.has_method("__new__")):
            name = f"{cl.name_prefix(emitter.names)}_init"
            emitter.emit_line("static int")
            emitter.emit_line(f"{name}(PyObject *self, PyObject *args, PyObject *kwds)")
            emitter.emit_line("{")
            emitter.emit_line(f"return {emitter.wrapper_function_call(init_fn.decl)}"
                              "(self, args, kwds) != NULL ? 0 : -1;")
            emitter.emit_line("}")
            return name
        return original(cl, init_fn, emitter)

    emitclass.SLOT_DEFS["__init__"] = ("tp_init", init_for_class)  # mypy is compiled: the table


def forget_ir(cache: Path, paths: list[str]) -> int:
    """Drop the cached mypyc IR of the modules built (``paths``); how many entries went.

    mypyc 2.4.1 does not write a class's bitmap attributes (``ClassIR.bitmap_attrs``: which
    float attributes an ``__init__`` may leave unset) into its IR cache, so a module rebuilt
    that reads such an attribute of a class whose module was loaded from the cache fails with
    ``ValueError``. Without its IR entry a module is stale to mypyc's plugin, so the next build
    re-analyses and re-generates all of ``paths`` together (the classes' bitmaps computed
    again) while mypy's cache of the libraries they import (numpy, the standard library) holds:
    the costly part of a build from scratch. The C of an unchanged module comes out the same,
    so gcc still compiles only the changed ones.
    """
    import sqlite3

    names = [p[:-3] + ".ir.json" for p in paths]
    gone = 0
    for ver in cache.glob("*.*"):
        for name in names:  # mypy's file store
            if (ver / name).is_file():
                (ver / name).unlink()
                gone += 1
        for db in sorted(ver.glob("cache*.db")):  # its SQLite store (the default), maybe sharded
            con = sqlite3.connect(db, timeout=30)
            try:
                with con:
                    gone += sum(con.execute("DELETE FROM files2 WHERE path = ?", (n,)).rowcount
                                for n in names)
            except sqlite3.Error:
                return 0
            finally:
                con.close()
    return gone


def build(jobs: int) -> None:
    _lenient_signatures()
    _tp_init_runs_init()
    from mypyc.build import mypycify
    from setuptools import setup

    paths = modules()
    if RECORD.exists():
        RECORD.unlink()  # a build that fails half way is not used
    os.chdir(ROOT)
    cache = ROOT / "build" / "mypyc-cache"  # its own: mypy's incremental cache, not the lint's
    ext: list[Any] = []
    for attempt in ("cache", "own IR", "scratch"):
        try:
            ext = mypycify([*paths, f"--cache-dir={cache}"], opt_level="3", separate=True,
                           target_dir=str(ROOT / "build" / "mypyc"))
            break
        except ValueError:  # mypyc 2.4.1 read a class's cached IR without its bitmap attributes
            if attempt == "scratch":
                raise
            if attempt == "cache" and forget_ir(cache, paths):
                print("make compiled: mypyc's incremental cache failed; re-analysing forewarn's "
                      "modules (the libraries' cache kept)", file=sys.stderr)
                continue
            print("make compiled: mypyc's incremental cache failed; building from scratch",
                  file=sys.stderr)
            shutil.rmtree(cache, ignore_errors=True)
    setup(name="forewarn_native", ext_modules=ext, script_args=[
        "-q", "build_ext", "--build-lib", str(OUT), "--build-temp", str(ROOT / "build" / "temp"),
        "-j", str(jobs)])
    data = data_files()  # read beside the modules (Path(__file__)): copied beside the build
    for p in data:
        shutil.copyfile(ROOT / p, OUT / p)
    RECORD.write_text(json.dumps({"mypy": MYPY_PIN, "python": sys.version.split()[0],
                                  "sources": digests(paths + data)}, indent=1, sort_keys=True)
                      + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2, help="C compilations at a time (default 2)")
    args = ap.parse_args(argv)
    reason = why_not()
    if reason is not None:
        print(f"make compiled: {reason}: not built; forewarn runs interpreted (pure Python, "
              "the same outputs)", file=sys.stderr)
        return 0
    start = time.monotonic()
    build(args.jobs)
    print(f"make compiled: {len(modules())} modules of processors/ and schemas/ built into "
          f"{OUT.relative_to(ROOT)} in {time.monotonic() - start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
