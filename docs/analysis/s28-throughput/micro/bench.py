import sys, time, random
import numpy as np
sys.path.insert(0, sys.argv[1])
import sst
print(sst.__file__)
random.seed(1)
seen = bytearray(32)
# 32 head counts, ~150 slots
import bisect
for _ in range(150):
    s = random.randrange(8192); b, low = s >> 8, s & 255
    lo = sst.start_old(seen, b, 32); n = seen[b]
    at = bisect.bisect_left(seen, low, lo, lo+n)
    if at < lo+n and seen[at]==low: continue
    seen.insert(at, low); seen[b] = n+1
for f in (sst.start_old, sst.start_bytes, sst.start_bytes_all, sst.start_generic):
    assert all(f(seen, b, 32) == sst.start_old(seen, b, 32) for b in range(32))
    t = time.perf_counter(); sst.run(f, seen, 32, 320000); dt = time.perf_counter() - t
    print(f.__name__, f"{dt/320000*1e9:.0f} ns")
hi = np.full(48, np.nan, dtype=np.float32); hi[:20] = np.random.rand(20)
t = time.perf_counter()
for _ in range(100000): sst.highest_old(hi)
print("fmax", (time.perf_counter()-t)/1e5*1e9, "ns")
t = time.perf_counter()
for _ in range(100000): sst.highest_new(hi.tolist())
print("loop", (time.perf_counter()-t)/1e5*1e9, "ns")
assert sst.highest_old(hi) == sst.highest_new(hi.tolist())
