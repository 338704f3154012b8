"""Is ``page_growth``'s what-if exact? ``python exact.py BASE NEW``: BASE a default
``diag13.py`` run (``cascade_page`` on), NEW the same seed run with ``page_growth`` on
(``FOREWARN_PIPELINE__PAGE_GROWTH=1``; any subset of scenarios). Per scenario in NEW,
``growthgate.gated`` on BASE against NEW's pickled risk and alarm window by window (an
unfloored window's risk is the one before the floor, which only NEW knows: printed, and it must
be under the alarm point), whether every other field of the rows (component, ts, ETA,
evidence, terms) is BASE's, and NEW's figures recomputed from its pickles."""
import importlib.util
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import growthgate  # noqa: E402,I001  (puts the s30 / s31 scripts on the path)
from parentside import floors  # noqa: E402

_S31 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "s31-breach-parent",
                   "exact.py")
_spec = importlib.util.spec_from_file_location("exact31", _S31)
assert _spec is not None and _spec.loader is not None
_exact31 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_exact31)
check = _exact31.check  # s31's comparer (this file's name is the same): window by window


def grown(scen: dict, name: str) -> tuple:
    """``page_growth``'s what-if of one scenario."""
    risk, alarm, gone, _ = growthgate.gated(scen, {name: floors(scen[name])})
    return risk, alarm, gone, sum(int(g.sum()) for (s, _c), g in gone.items() if s == name)


def main(base: str, new: str) -> None:
    check(base, new, grown)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
