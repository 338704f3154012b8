import sys
sys.path.insert(0, sys.argv[1])
import sp
f = getattr(sp, sys.argv[2])
x = sp.OP("seasonal", 60, 10, 15.0, 20, 0.99)
assert f(x) is x and f(sp.OP("seasonal", 60, 10, 15.0, 20, 0.99)) is x
assert f(sp.OP("seasonal", 60, 10, 15, 20, 0.99)) is not x  # 15 vs 15.0 apart
assert f(sp.OP("seasonal", 60, 10, -0.0, 20, 0.99)) is not f(sp.OP("seasonal", 60, 10, 0.0, 20, 0.99))
sp.run(f, int(sys.argv[3]))
