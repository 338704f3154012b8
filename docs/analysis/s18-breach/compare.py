"""Per-scenario breach figures of two or more runs side by side: ``python compare.py A.json
B.json ...`` (``forewarn backtest fleet --json`` output, or ``diag13.py``'s figures.json)."""
import json
import sys


def figs(path: str) -> dict:
    d = json.load(open(path))
    return d["scenarios"]


def main() -> None:
    runs = [figs(p) for p in sys.argv[1:]]
    names = list(runs[0])
    print("scenario | " + " | ".join(f"run {i}: ep / false / P / R@5m / Brier"
                                     for i in range(len(runs))))
    for n in names:
        cells = []
        for r in runs:
            f = r.get(n)
            if f is None:
                cells.append("-")
                continue
            ep = f["episodes"]
            prec = f["precision"]
            false = round(ep * (1 - prec)) if prec is not None else "-"
            cells.append(f"{ep} / {false} / {prec if prec is None else round(prec, 3)} / "
                         f"{round(f['recall']['300'], 3)} / {round(f['brier'], 4)}")
        print(f"{n} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
