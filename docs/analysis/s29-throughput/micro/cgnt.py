import sys
sys.path.insert(0, sys.argv[1])
import nt
f = getattr(nt, sys.argv[2])
assert sys.argv[2] == "nothing" or (f(3) == nt.by_call(3) and type(f(3)) is nt.TP)
f(int(sys.argv[3]))
