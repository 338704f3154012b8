"""Where the coarse option's anomaly evidence is *higher* than the default's, although its raw
score never is (a new coarse context implies a new fine one): ``python higher.py BASE_DIR
COARSE_DIR``. Per run: windows with evidence > 0 in either, windows where the option's is
higher / lower, and the mean of each side's evidence over the windows where it is higher."""
import os
import pickle
import sys

import numpy as np


def main() -> None:
    a_dir, b_dir = sys.argv[1], sys.argv[2]
    hi = lo = n = 0
    up_a: list[float] = []
    up_b: list[float] = []
    for f in sorted(x for x in os.listdir(b_dir) if x.endswith(".pkl")):
        ra = pickle.load(open(os.path.join(a_dir, f), "rb"))["rows"]
        rb = pickle.load(open(os.path.join(b_dir, f), "rb"))["rows"]
        for x, y in zip(ra, rb, strict=True):
            u, v = x[4].get("anomaly", 0.0), y[4].get("anomaly", 0.0)
            n += (u > 0 or v > 0)
            if v > u:
                hi += 1
                up_a.append(u)
                up_b.append(v)
            lo += v < u
    print(f"windows with anomaly > 0: {n}; option higher {hi}, lower {lo}; where higher, mean "
          f"{np.mean(up_a):.3f} (default) -> {np.mean(up_b):.3f} (option)")


if __name__ == "__main__":
    main()
