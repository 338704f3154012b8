from setuptools import setup
from mypyc.build import mypycify
setup(name="sst", ext_modules=mypycify(["sst.py"]))
