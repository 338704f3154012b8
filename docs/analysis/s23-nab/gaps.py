"""Per file (all 31; no labels read): the raw onsets (raw >= 0.75), the longest gap between two
of them (in rests: NAB's probation / 5), the partial onsets (0.75 <= raw < 1) and how many of
them come past the longest gap before them (no confirmation needed under round eleven's rule,
``docs/modelling.md``, "NAB round eleven"); and nyc_taxi's row 8832 (its window's only
detection). ``PYTHONPATH=. python docs/analysis/s23-nab/gaps.py`` (~1 min with
``NAB_RAW_CACHE``)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus  # noqa: E402

from streams.lab.scoring.nab import rest_rows  # noqa: E402


def main() -> None:
    _, values = corpus()
    for n, r in cached_raw("default", values).items():
        rest, ons = rest_rows(r.size), np.flatnonzero(r >= 0.75)
        gaps = np.diff(ons)
        part = [t for t in ons if r[t] < 1.0]
        past = sum(1 for t in part if ons[ons < t].size < 2
                   or t - ons[ons < t][-1] >= np.diff(ons[ons < t]).max())
        longest = gaps.max() / rest if gaps.size else 0.0
        print(f"{n.split('/')[-1][:34]:34s} onsets {ons.size:4d} longest gap {longest:5.1f} "
              f"rests, partial {len(part):4d}, past the longest gap before {past:3d}")
        if "nyc_taxi" in n:
            prev = ons[ons < 8832]
            print(f"   row 8832: {(8832 - prev[-1]) / rest:.1f} rests after the previous onset, "
                  f"the longest gap before {np.diff(prev).max() / rest:.1f}")


if __name__ == "__main__":
    main()
