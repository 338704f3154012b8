from setuptools import setup
from mypyc.build import mypycify
setup(name="nt", ext_modules=mypycify(["nt.py"]))
