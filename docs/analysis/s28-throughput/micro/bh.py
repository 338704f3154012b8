import sys, time
import numpy as np
sys.path.insert(0, sys.argv[1]); import sst
hi = np.full(48, np.nan, dtype=np.float32); hi[:20] = np.random.rand(20)
for f in (sst.highest_old, ):
    t = time.perf_counter()
    for _ in range(200000): f(hi)
    print(f.__name__, (time.perf_counter()-t)/2e5*1e9, "ns")
for f in (sst.highest_new, sst.highest_star):
    assert f(hi.tolist()) == sst.highest_old(hi)
    t = time.perf_counter()
    for _ in range(200000): f(hi.tolist())
    print(f.__name__, (time.perf_counter()-t)/2e5*1e9, "ns")
