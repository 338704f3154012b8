"""mypyc build of the named modules, in place (trial, s20). Works around mypyc 2.4.1's
text-signature crash (inspect.Signature validation) by not validating."""
import inspect, sys, time
_Sig = inspect.Signature
class _Lenient(_Sig):
    def __init__(self, parameters=None, *, return_annotation=_Sig.empty, __validate_parameters__=True):
        try:
            super().__init__(parameters, return_annotation=return_annotation)
        except ValueError:
            print("lenient signature:", [p.name for p in parameters or []], file=sys.stderr)
            super().__init__(parameters, return_annotation=return_annotation, __validate_parameters__=False)
inspect.Signature = _Lenient
from setuptools import setup
from mypyc.build import mypycify
t = time.time()
paths = sys.argv[1:]
sys.argv = [sys.argv[0], "build_ext", "--inplace"]
setup(name="forewarn_compiled", ext_modules=mypycify(paths, opt_level="3"))
print(f"built in {time.time() - t:.0f} s", file=sys.stderr)
