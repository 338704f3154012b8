"""The misses' next lever, its reach and its risk measured (``docs/modelling.md``, "NAB round
ten (s21)", "The misses"; threshold only, nothing chosen on labels, not adopted): **no learning
from what it flags** for the novelty's seen set. A context first marked while the detector is
in an alarm's rest (within the file's rest after a raw score >= 0.75) is provisional: its first
visit outside any alarm's rest counts as new again (then it is learnt for good); inside a rest
it counts as seen. The raw score is the default's or, if higher, the share of the contexts new
or provisional; the alarm's rest follows that score. ``PYTHONPATH=. python
docs/analysis/s21-nab/freeze.py`` (~3 min)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus  # noqa: E402
from robust import scored  # noqa: E402

from processors.univariate import ContextNovelty  # noqa: E402
from streams.lab.scoring.nab import rest_rows  # noqa: E402

WARM = 250


class Provisional(ContextNovelty):
    """:class:`ContextNovelty` with contexts learnt during an alarm's rest held provisional."""

    __slots__ = ("rest", "until", "provisional")

    def __init__(self, rest: int, **params: object) -> None:
        super().__init__(**params)
        self.rest = rest
        self.until = -1  # the last row of the current alarm's rest
        self.provisional: set[int] = set()

    def step(self, x: float) -> float:
        t = self.n
        if t < self.p.warm or not np.isfinite(x):
            return super().step(x)
        slots = self._slots(self._level(x, self.lo, self.hi))
        unseen = [s for s in slots if self._new((s,))]
        alarming = t <= self.until
        back = [] if alarming else [s for s in slots if s in self.provisional]
        raw = max(super().step(x), (len(unseen) + len(back)) / len(slots))
        if alarming:
            self.provisional.update(unseen)
        self.provisional.difference_update(back)
        if raw >= 0.75:
            self.until = t + self.rest
        return raw


def main() -> None:
    c, values = corpus()
    prov = {}
    for n, v in values.items():
        m = Provisional(rest_rows(len(v)), bins=8, order=3, margin=0.25, warm=WARM, tail_min=100)
        prov[n] = np.array([m.step(float(y)) for y in v])
    for label, raw in (("default", cached_raw("default", values)), ("provisional", prov)):
        sc = scored(c, label, raw)
        for n in ("realKnownCause/machine_temperature_system_failure.csv",
                  "realKnownCause/cpu_utilization_asg_misconfiguration.csv",
                  "realKnownCause/rogue_agent_key_updown.csv"):
            peaks = [f"{sc[n][a:b + 1].max():.3f}" for a, b in c._prep["standard"][n].windows]
            print(f"  {n.split('/')[-1]}: window peaks {peaks}")


if __name__ == "__main__":
    main()
