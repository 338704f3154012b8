"""Round ten's grids (NAB's protocol, every label-chosen parameter held out; the lab's path,
``streams.lab.cv.nab_cv``): ``--detector novelty-confirm``'s 576 (the default's 96 × ``confirm``
off / on with the file's rest as the horizon × ``quiet`` 10, 5, 2: the rule's grid), and with
``--quiet10`` the 192 where ``quiet`` is held at 10 (the value chosen on all 31 files). Each
fold chooses the configuration on the other categories (standard profile) and the threshold
per profile. ``PYTHONPATH=. python docs/analysis/s21-nab/grid.py [--quiet10]`` (~6 min at
load 4); the 576 is also ``python -m streams.lab.cv nab --data ../shared/data/nab --detector
novelty-confirm --select-on standard``."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import DATA, line, print_folds  # noqa: E402

from streams.lab.cv import nab_cv  # noqa: E402
from streams.lab.grids import GRIDS  # noqa: E402


def main() -> None:
    grid = dict(GRIDS["novelty-confirm"])
    if "--quiet10" in sys.argv:
        grid["quiet"] = (10.0,)
    res = nab_cv(DATA, "novelty-confirm", grid, select_on="standard")
    print(line(f"grid {len(grid['quiet']) * 192}", res), flush=True)
    print_folds(res, ("warm", "order", "margin", "s_lo", "s_hi", "confirm", "quiet"))


if __name__ == "__main__":
    main()
