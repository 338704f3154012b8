from setuptools import setup
from mypyc.build import mypycify
setup(name="sq", ext_modules=mypycify(["sq.py"]))
