"""s28 (hT): instructions of forms of the day profile's highest bin, interpreted (Callgrind, pure):
    valgrind --tool=callgrind --callgrind-out-file=/dev/null python highest28.py fmax|loop|maxcat|tolist|none 0|20000
the difference of the two counts / 20000 is one call."""
import sys, math
import numpy as np
V = sys.argv[1]
hi = np.full(48, np.nan, dtype=np.float32); hi[:20] = np.random.default_rng(1).random(20)
NEG = -math.inf
def loop(bins):
    top = NEG
    for v in bins:
        if v > top:
            top = v
    return top
N = int(sys.argv[2])
if V == "fmax":
    for _ in range(N): float(np.fmax.reduce(hi))
elif V == "loop":
    for _ in range(N): loop(hi.tolist())
elif V == "maxcat":
    for _ in range(N): max([NEG] + hi.tolist())
elif V == "tolist":
    for _ in range(N): hi.tolist()
elif V == "none":
    pass
