"""s28 (hT): instructions of forms of the day profile's highest bin, interpreted (Callgrind, pure):
    valgrind --tool=callgrind --callgrind-out-file=/dev/null python highest28.py fmax|loop|maxcat|tolist|none 0|20000
the difference of the two counts / 20000 is one call. Since the tidy after s28 each form runs
through a lambda (a call more per form, the same for all; subtract `none`'s): hT's figures in
docs/throughput.md were taken with the forms inline."""
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
FORMS = {  # "none": the start-up alone, the baseline the others' counts are read against
    "fmax": lambda: float(np.fmax.reduce(hi)),
    "loop": lambda: loop(hi.tolist()),
    "maxcat": lambda: max([NEG] + hi.tolist()),
    "tolist": lambda: hi.tolist(),
    "none": lambda: None,
}
form = FORMS[V]
for _ in range(N):
    form()
