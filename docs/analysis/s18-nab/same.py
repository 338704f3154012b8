"""How far the risk of the coarse option with the fine risk input (s18) is from the default's:
``python same.py BASE_DIR FIX_DIR`` (``diag13.py`` outputs of one seed). Per scenario, the
windows whose anomaly evidence differs and whose emitted risk differs (and the largest
difference), then the totals."""
import os
import pickle
import sys


def main() -> None:
    a_dir, b_dir = sys.argv[1], sys.argv[2]
    tot = [0, 0, 0, 0.0]
    for n in sorted(f[:-4] for f in os.listdir(b_dir) if f.endswith(".pkl")):
        ra = pickle.load(open(os.path.join(a_dir, n + ".pkl"), "rb"))["rows"]
        rb = pickle.load(open(os.path.join(b_dir, n + ".pkl"), "rb"))["rows"]
        assert [r[:2] for r in ra] == [r[:2] for r in rb], n
        ev = sum(x[4].get("anomaly") != y[4].get("anomaly") for x, y in zip(ra, rb, strict=True))
        rk = [abs(x[2] - y[2]) for x, y in zip(ra, rb, strict=True) if x[2] != y[2]]
        print(f"{n}: windows {len(ra)}, anomaly evidence differs {ev}, risk differs {len(rk)}"
              f" (max {max(rk, default=0.0):.4f})")
        tot[0] += len(ra)
        tot[1] += ev
        tot[2] += len(rk)
        tot[3] = max(tot[3], max(rk, default=0.0))
    print(f"all: windows {tot[0]}, anomaly evidence differs {tot[1]}, risk differs {tot[2]} "
          f"(max {tot[3]:.4f})")


if __name__ == "__main__":
    main()
