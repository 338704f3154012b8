import sys
sys.path.insert(0, sys.argv[1])
import dk
a = getattr(dk, sys.argv[2])(3)
b = dk.build(3)
assert [list(x.items()) for x in a] == [list(x.items()) for x in b] or sys.argv[2] == "nothing"
r = getattr(dk, sys.argv[2])(int(sys.argv[3]))
