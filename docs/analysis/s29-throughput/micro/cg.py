import sys, random
sys.path.insert(0, sys.argv[1])
import sst2
random.seed(1)
seen = bytearray(32)
import bisect
for _ in range(150):
    s = random.randrange(8192); b, low = s >> 8, s & 255
    lo = sst2.start_old(seen, b, 32); n = seen[b]
    at = bisect.bisect_left(seen, low, lo, lo+n)
    if at < lo+n and seen[at]==low: continue
    seen.insert(at, low); seen[b] = n+1
f = getattr(sst2, sys.argv[2])
for b in range(32):
    assert f(seen, b, 32) == sst2.start_old(seen, b, 32)
full = bytearray([255] * 32) + bytearray(8160)
for b in range(32):
    assert f(full, b, 32) == sst2.start_old(full, b, 32), b
sst2.run(f, seen, 32, int(sys.argv[3]))
