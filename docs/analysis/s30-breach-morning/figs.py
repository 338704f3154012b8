"""Pages, recall@5m and Brier of ``weekly`` and ``daily_peaks`` and pooled over the two (s30,
issue #15): ``python figs.py DIR [DIR ...]`` (DIR: a diag13 run's ``figures.json``; pooled as the
backtest pools: pages and breaches summed, Brier weighted by windows)."""
import json
import os
import sys

NAMES = ("weekly", "daily_peaks")


def main(dirs: list[str]) -> None:
    for d in dirs:
        sc = json.load(open(os.path.join(d, "figures.json")))["scenarios"]
        pages = true = br = caught = n = 0
        sq = 0.0
        for name in NAMES:
            f = sc[name]
            w = sum(b["count"] for b in f["reliability"])
            print(f"{d:18} {name:12} pages {f['episodes']:3} true {f['true_episodes']:3} "
                  f"P {f['precision']:.4f} R@5m {f['recall']['300']:.4f} Brier {f['brier']:.5f}"
                  f" lead median {f['lead_time_s']['median'] / 60:.1f} min")
            pages, true, br = pages + f["episodes"], true + f["true_episodes"], br + f["breaches"]
            caught += f["recall"]["300"] * f["breaches"]
            n, sq = n + w, sq + f["brier"] * w
        print(f"{d:18} {'pooled':12} pages {pages:3} true {true:3} P {true / pages:.4f} "
              f"R@5m {caught / br:.4f} Brier {sq / n:.5f}")


if __name__ == "__main__":
    main(sys.argv[1:])
