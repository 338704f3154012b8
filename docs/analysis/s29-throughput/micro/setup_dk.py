from setuptools import setup
from mypyc.build import mypycify
setup(name="dk", ext_modules=mypycify(["dk.py"]))
