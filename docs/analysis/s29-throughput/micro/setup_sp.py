from setuptools import setup
from mypyc.build import mypycify
setup(name="sp", ext_modules=mypycify(["sp.py"]))
