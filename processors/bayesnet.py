"""A small discrete Bayesian network: P(FAIL within the horizon | discretised metric states).

Structure (a naive-Bayes network, written out)::

            Y = "a FAIL status is seen within horizon_s"
          / |  \\           \\
       X_cpu X_mem ...  X_context

One node per rule metric, its state read off the window (:func:`metric_state`): where the mean
sits against the rule's thresholds (``far``, ``normal``, ``warn``, ``fail``) crossed with the
forecast's breach probability (``<5 %``, ``<50 %``, ``>=50 %``): twelve states. One more node,
``context``, takes evidence from outside the component (the worst status of a component it
depends on, given by the caller: 0 PASS / 1 WARN / 2 FAIL) — the only cross-component
dependency modelled, and only when the caller supplies it.

Every conditional table is learnt online from counts: a Dirichlet prior (pseudo-counts, a
prior belief leaning Y=1 towards bad states, worth ``prior_strength`` observations per node),
plus one count per labelled window. ``P(Y=1 | evidence)`` follows by Bayes' rule over the nodes
present; :meth:`BayesNet.explain` gives each node's log-likelihood ratio, the terms whose
positive part names the metrics that drive the risk. Naive Bayes double-counts correlated
metrics, so the pipeline feeds its log-odds to the logistic combiner (which learns how much to
trust it) rather than using the posterior alone.

>>> bn = BayesNet()
>>> calm = {"cpu.util": metric_state(0.3, 0.8, 0.95, 1.0, 0.0)}
>>> hot = {"cpu.util": metric_state(0.9, 0.8, 0.95, 1.0, 0.7)}
>>> bn.probability(hot) > bn.probability(calm)
True
"""

from __future__ import annotations

import functools
import math
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from processors.nativeattr import mypyc_attr

LEVELS = ("far", "normal", "warn", "fail")
OUTLOOKS = ("<5%", "<50%", ">=50%")
N_STATES = len(LEVELS) * len(OUTLOOKS)
CONTEXT_STATES = 3  # PASS, WARN, FAIL of a component this one depends on


def metric_state(
    value: float, warn: float | None, fail: float, sign: float, breach_p: float
) -> int:
    """A metric's state index in ``0..11``: level band * 3 + outlook band.

    Level bands by ``sign * value`` against the thresholds: ``fail`` at or past FAIL, ``warn``
    at or past WARN, ``normal`` within one WARN-to-FAIL gap below WARN, ``far`` beyond. Without
    a WARN threshold, WARN is taken 10 % of |fail| before FAIL.
    """
    w = warn if warn is not None else fail - sign * 0.1 * max(abs(fail), 1e-9)
    gap = max(abs(fail - w), 1e-12)
    v = sign * value
    if v >= sign * fail:
        level = 3
    elif v >= sign * w:
        level = 2
    elif v >= sign * w - gap:
        level = 1
    else:
        level = 0
    outlook = 0 if breach_p < 0.05 else (1 if breach_p < 0.5 else 2)
    return level * len(OUTLOOKS) + outlook


FAIL_STATE = 3 * len(OUTLOOKS)  # a metric's states from here on: its level at or past FAIL


def unexplained(llr: Mapping[str, float], states: Mapping[str, int]) -> dict[str, float]:
    """The ratios ``llr`` (:meth:`BayesNet.explain` of ``states``) less those of the metric
    nodes at or past FAIL: what a FAIL under way explains (``alarm_explain``, issue #15, s24).

    >>> unexplained({"cpu": 1.5, "net": -0.4, "context": 0.2}, {"cpu": 10, "net": 4})
    {'net': -0.4, 'context': 0.2}
    """
    return {k: v for k, v in llr.items() if states.get(k, 0) < FAIL_STATE}


def _prior_tables(strength: float) -> tuple[list[float], list[float]]:
    """Pseudo-counts of a metric node under Y=0 and Y=1: Y=1 leans to bad states."""
    bad = []
    good = []
    for level in range(len(LEVELS)):
        for outlook in range(len(OUTLOOKS)):
            badness = level + 1.5 * outlook  # 0 .. 6
            bad.append(math.exp(0.8 * badness))
            good.append(math.exp(-0.8 * badness))
    return [strength * g / sum(good) for g in good], [strength * b / sum(bad) for b in bad]


def _context_prior(strength: float) -> tuple[list[float], list[float]]:
    return (
        [strength * p for p in (0.90, 0.08, 0.02)],
        [strength * p for p in (0.40, 0.30, 0.30)],
    )


def _prior(node: str, strength: float) -> tuple[list[list[float]], tuple[float, ...]]:
    """A node's prior counts ``[Y=0, Y=1]`` and each state's log-likelihood ratio under them
    (the same for every metric node; callers copy before changing counts)."""
    return _prior_of(node == "context", strength)


@functools.cache
def _prior_of(context: bool, strength: float) -> tuple[list[list[float]], tuple[float, ...]]:
    g, b = _context_prior(strength) if context else _prior_tables(strength)
    llr = tuple(math.log(b[k] / sum(b)) - math.log(g[k] / sum(g)) for k in range(len(g)))
    return [g, b], llr


def flat(rows: Sequence[Sequence[float]]) -> array[float]:
    """A node's counts ``[Y=0 row, Y=1 row]`` as one array, each row's sum after them (#14, s31:
    what :meth:`BayesNet.explain` reads; derived, never written: :func:`halves` leaves it out).

    >>> t = flat([[1.0, 2.0], [3.0, 4.0]])
    >>> t
    array('d', [1.0, 2.0, 3.0, 4.0, 3.0, 7.0])
    >>> halves(t)
    (array('d', [1.0, 2.0]), array('d', [3.0, 4.0]))
    """
    if len(rows) != 2 or len(rows[0]) != len(rows[1]):
        raise ValueError("a node's counts are two rows of one length, Y=0 and Y=1")
    t = array("d", [*rows[0], *rows[1], 0.0, 0.0])
    resum(t, 0)
    resum(t, 1)
    return t


def resum(t: array[float], k: int) -> None:
    """Row ``k``'s sum (0: Y=0, 1: Y=1) of a node's array into its place after the rows: the
    row's own ``sum``, left to right, as :meth:`BayesNet.explain` summed it before the cache
    (the same additions in the same order: the same bits). Called after every change of a
    count; an incremental ``+ 1.0`` would round otherwise."""
    half = (len(t) - 2) >> 1
    t[2 * half + k] = sum(t[k * half:(k + 1) * half])


def halves(t: array[float]) -> tuple[array[float], array[float]]:
    """The Y=0 and Y=1 counts of a node's table (copies; the sums after them left out)."""
    half = (len(t) - 2) >> 1
    return t[:half], t[half:2 * half]


@mypyc_attr(serializable=True)
@dataclass
class BayesNet:
    """Count tables of the network above; ``learn_one`` adds a labelled window."""

    prior_strength: float = 4.0
    prior_y: tuple[float, float] = (19.0, 1.0)  # pseudo-counts of Y=0, Y=1
    y_counts: list[float] = field(default_factory=lambda: [0.0, 0.0])
    # node -> the counts of Y=0 then those of Y=1 (one state each) in ONE array('d'), ~210
    # bytes a node against ~950 as lists of floats, ~360 as two arrays (#14); then each row's
    # sum (s31, 16 bytes: :func:`flat`, :func:`resum`); written in a snapshot as the two lists
    # they were, without the sums (``processors.stateforms.encode_bayesnet``)
    tables: dict[str, array[float]] = field(default_factory=dict)
    n_learnt: int = 0

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with lists, as format 2 wrote them (``processors.legacy_state``)."""
        return {**self.__dict__, "tables": {n: [list(h) for h in halves(t)]
                                            for n, t in self.tables.items()}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        tables = state.get("tables", {})
        self.__dict__.update(state)
        self.tables = {n: flat(t) for n, t in tables.items()}

    def _table(self, node: str) -> Sequence[Sequence[float]]:
        """Counts (prior included) of ``node`` under ``[Y=0, Y=1]``; not stored until learnt."""
        t = self.tables.get(node)
        if t is not None:
            return halves(t)
        return _prior(node, self.prior_strength)[0]

    def explain(self, evidence: Mapping[str, int]) -> dict[str, float]:
        """Each node's log-likelihood ratio ``log P(x|Y=1) / P(x|Y=0)`` (natural log)."""
        out = {}
        tables, log = self.tables, math.log
        for node, state in sorted(evidence.items()):
            t = tables.get(node)
            if t is None:  # an unlearnt node: its prior's ratios, computed once
                llr = _prior(node, self.prior_strength)[1]
                if 0 <= state < len(llr):
                    out[node] = llr[state]
                continue
            n = len(t) - 2  # the counts, then each row's sum (:func:`flat`, :func:`resum`)
            half = n >> 1
            if 0 <= state < half:
                out[node] = log(t[half + state] / t[n + 1]) - log(t[state] / t[n])
        return out

    def log_odds(self, evidence: Mapping[str, int]) -> float:
        """``log P(Y=1 | evidence) / P(Y=0 | evidence)``."""
        return self.log_odds_of(self.explain(evidence))

    def log_odds_of(self, llr: Mapping[str, float]) -> float:
        """:meth:`log_odds` from the ratios :meth:`explain` gave."""
        y0 = self.prior_y[0] + self.y_counts[0]
        y1 = self.prior_y[1] + self.y_counts[1]
        return math.log(y1 / y0) + math.fsum(llr.values())

    def probability(self, evidence: Mapping[str, int]) -> float:
        z = max(-50.0, min(50.0, self.log_odds(evidence)))
        return 1.0 / (1.0 + math.exp(-z))

    def learn_one(self, evidence: Mapping[str, int], y: bool) -> None:
        k = 1 if y else 0
        self.y_counts[k] += 1.0
        for node, state in evidence.items():
            t = self.tables.get(node)
            if t is None:
                t = self.tables[node] = flat(self._table(node))
            half = (len(t) - 2) >> 1
            if 0 <= state < half:
                t[k * half + state] += 1.0
                resum(t, k)
        self.n_learnt += 1
        return None
