from setuptools import setup
from mypyc.build import mypycify
setup(name="sst2", ext_modules=mypycify(["sst2.py"]))
