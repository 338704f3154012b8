"""The row sums each node's array carries after its counts (#14, s31): derived state, always
the bits a fresh ``sum`` of the row gives, never written to a snapshot or a pickle."""

from __future__ import annotations

import copy
import math
import pickle
import random
import struct
from array import array

from processors import stateformat
from processors.bayesnet import N_STATES, BayesNet, flat, halves

PICKLES = hasattr(BayesNet(), "__dict__")


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def _fresh_explain(bn: BayesNet, evidence: dict[str, int]) -> dict[str, float]:
    """``explain`` as it was before the cache: both rows summed again at every read."""
    out = {}
    for node, state in sorted(evidence.items()):
        if node not in bn.tables:
            continue
        y0, y1 = halves(bn.tables[node])
        if 0 <= state < len(y0):
            out[node] = math.log(y1[state] / sum(y1)) - math.log(y0[state] / sum(y0))
    return out


def _check(bn: BayesNet) -> None:
    for t in bn.tables.values():
        y0, y1 = halves(t)
        assert len(t) == 2 * len(y0) + 2
        assert _bits(t[-2]) == _bits(sum(y0)) and _bits(t[-1]) == _bits(sum(y1))


def _evidence(rng: random.Random) -> dict[str, int]:
    nodes = ["cpu.util", "mem.used", "disk.io", "net.err", "lat.p99"]
    ev = {n: rng.randrange(-1, N_STATES + 1) for n in rng.sample(nodes, rng.randrange(1, 5))}
    if rng.random() < 0.5:
        ev["context"] = rng.randrange(-1, 4)
    return ev


def test_the_sums_are_a_fresh_sum_after_any_learning_and_restore() -> None:
    """Random labels, snapshot / pickle / deepcopy round trips between them: every node's two
    sums are, bit for bit, the row's ``sum`` now, and ``explain`` equals the uncached one."""
    rng = random.Random(31)
    for strength in (4.0, 0.7, 13.3):
        bn = BayesNet(prior_strength=strength)
        for step in range(1500):
            ev = _evidence(rng)
            want = _fresh_explain(bn, ev)
            got = bn.explain(ev)
            assert {k: _bits(v) for k, v in got.items() if k in bn.tables} == {
                k: _bits(v) for k, v in want.items()}
            bn.learn_one(ev, rng.random() < 0.3)
            _check(bn)
            if step % 97 == 0:
                bn = stateformat.decode(stateformat.encode(bn))
            elif step % 89 == 0 and PICKLES:  # the compiled class has no ``__dict__``
                bn = pickle.loads(pickle.dumps(bn))
            elif step % 83 == 0 and PICKLES:
                bn = copy.deepcopy(bn)
            _check(bn)


def test_an_incremental_sum_would_not_be_the_same_bits() -> None:
    """Why the row is summed again on every label: adding 1.0 to a kept sum rounds otherwise
    for the prior's pseudo-counts (this test fails if the two ever agree here)."""
    bn = BayesNet()
    bn.learn_one({"cpu.util": 0}, False)
    t = bn.tables["cpu.util"]
    y0, _ = halves(t)
    kept = sum(y0)
    differ = 0
    for state in range(N_STATES):
        bn.learn_one({"cpu.util": state}, False)
        kept += 1.0
        differ += _bits(kept) != _bits(t[-2])
    assert differ > 0
    _check(bn)


def test_the_sums_are_not_written() -> None:
    """A snapshot and a pickle hold the two rows only, as before the cache."""
    bn = BayesNet()
    bn.learn_one({"cpu.util": 4, "context": 2}, True)
    if PICKLES:  # the compiled class has no ``__dict__`` (pickled by the snapshot's format)
        state = bn.__getstate__()
        assert state["tables"]["cpu.util"] == [list(h) for h in halves(bn.tables["cpu.util"])]
        assert all(len(rows) == 2 for rows in state["tables"].values())
    assert flat([[1.0, 2.0], [3.0, 4.0]]) == array("d", [1.0, 2.0, 3.0, 4.0, 3.0, 7.0])
    back = stateformat.decode(stateformat.encode(bn))
    assert back.tables == bn.tables
