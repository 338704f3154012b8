"""mypyc build of the named modules, in place (s21: after s20's; -j 2, separate=True: one extension per module, gcc in parallel, mypy incremental). Works around mypyc 2.4.1's
text-signature crash (inspect.Signature validation) by not validating."""
import pathlib, sys, time
# s20's text-signature work-around (the part of s20's build.py before its setup; as run in
# /tmp/hF/s21 the same lines were inline)
_S20 = pathlib.Path(__file__).resolve().parent.parent / "s20-throughput" / "build.py"
exec(_S20.read_text().split("from setuptools import setup")[0])

# mypyc 2.4.1: a class with @mypyc_attr(serializable=True) gets a __new__ that does not run
# __init__ (right: the state reader builds objects without it) but also an empty tp_init, so
# ``Cls(args)`` from interpreted code never ran __init__ (emitclass.generate_init_for_class
# leaves is_serializable() out of its condition). Patched here: tp_init runs __init__.
from mypyc.codegen import emitclass
_orig_init = emitclass.generate_init_for_class
def _init_for_class(cl, init_fn, emitter):
    if cl.is_serializable() and not (cl.allow_interpreted_subclasses or cl.builtin_base
                                     or cl.has_method("__new__")):
        func_name = f"{cl.name_prefix(emitter.names)}_init"
        emitter.emit_line("static int")
        emitter.emit_line(f"{func_name}(PyObject *self, PyObject *args, PyObject *kwds)")
        emitter.emit_line("{")
        emitter.emit_line(f"return {emitter.wrapper_function_call(init_fn.decl)}"
                          "(self, args, kwds) != NULL ? 0 : -1;")
        emitter.emit_line("}")
        return func_name
    return _orig_init(cl, init_fn, emitter)
emitclass.SLOT_DEFS["__init__"] = ("tp_init", _init_for_class)  # mypy is compiled: patch the table
from setuptools import setup
from mypyc.build import mypycify
t = time.time()
paths = sys.argv[1:]
sys.argv = [sys.argv[0], "build_ext", "--inplace", "-j", "2"]
setup(name="forewarn_compiled", ext_modules=mypycify(paths, opt_level="3", separate=True))
print(f"built in {time.time() - t:.0f} s", file=sys.stderr)
