import sys, time
import numpy as np
sys.path.insert(0, sys.argv[1]); import sq
print(sq.__file__)
a = np.random.default_rng(1).normal(size=(257, 10)) * 3
for f in (sq.sq_old, sq.sq_new, sq.sq_new2):
    assert (f(a) == sq.sq_old(a)).all()
    t = time.perf_counter()
    for _ in range(2000): f(a)
    print(f.__name__, (time.perf_counter() - t) / 2000 * 1e6, "us")
