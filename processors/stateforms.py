"""The compact in-memory forms of state (#14) and how the format writes and reads them.

Each form below is written as the plain value it replaced, so the snapshot bytes did not
change, and read back into the compact form (refusing anything that is not the old shape):

* an open window (:class:`processors.features.WindowState`, :mod:`processors.openwindow`):
  rows of one ``array('d')`` or one per metric, written as ``ts -> value`` maps;
* a window waiting for its label (:class:`processors.calibration.PendingLabels`): a row of
  :mod:`processors.pendingrows` in a list, written as ``(end_ms, {evidence}, {states})`` in a
  deque;
* the Bayes net's count tables: one ``array('d')`` a node, written as two lists;
* a component's rule statuses per window: one dict shared by every equal set of statuses
  (:func:`processors.componentstate.shared_statuses`), written as the dicts they are;
* a novelty model's seen contexts (:class:`processors.univariate.ContextNovelty`): the
  compact form of :mod:`processors.seenset` while it is the shorter, written as the bitmap
  by VERSION 3 and as held by VERSION 4 (s27; read either way, a compact form only as the
  one a live model holds for its set);
  its last levels one tuple for every equal context (``univariate.interned_levels``), and its
  parameters one shared tuple (:mod:`processors.sharedparams`, the schema's ``params``).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from processors.seenset import bitmap, empty, restored
from processors.stateschema import attributes
from schemas.errors import ContractError

__all__ = ["after_bayesnet", "after_component", "after_novelty", "before_pending",
           "after_windows", "encode_bayesnet", "encode_novelty", "encode_pending",
           "encode_windows"]


def encode_windows(st: Any) -> dict[str, Any]:
    """A :class:`~processors.features.WindowState` with its open windows as the
    ``metric -> ts -> value`` maps they were written as before #14 (the same bytes)."""
    from processors.openwindow import window_maps

    out = attributes("WindowState", st)
    out["open"] = {start: window_maps(w) for start, w in st.open.items()}
    return out


def after_windows(st: Any) -> None:
    from processors.features import TS_LIMIT_MS, window_series

    if not all(type(start) is int and type(w) is dict and all(
            type(m) is str and type(tv) is dict and all(
                type(t) is int and -TS_LIMIT_MS < t < TS_LIMIT_MS and type(v) in (float, int)
                for t, v in tv.items()) for m, tv in w.items()) for start, w in st.open.items()):
        raise ContractError("state: WindowState.open is not a map of window start to metric "
                            "to ts -> value")
    st.open = {start: window_series(w) for start, w in st.open.items()}


def encode_pending(q: Any) -> dict[str, Any]:
    from processors.pendingrows import unpack

    out = attributes("PendingLabels", q)  # each window as written before #14: (end, {}, {})
    out["items"] = deque(unpack(row) for row in q.items)
    return out


def before_pending(fields: dict[str, Any]) -> None:
    """``items`` as held: read as a deque of ``(end, evidence, states)``, held as a list of
    packed rows (760 bytes less than a deque), converted before the field is set (s22)."""
    from processors.pendingrows import pack

    items = fields["items"]
    if not all(type(row) is tuple and len(row) == 3 and type(row[0]) is int
               and type(row[1]) is dict and type(row[2]) is dict for row in items):
        raise ContractError("state: PendingLabels.items holds a window that is not "
                            "(end_ms, evidence, states)")
    fields["items"] = [pack(*row) for row in items]


def encode_bayesnet(bn: Any) -> dict[str, Any]:
    """A :class:`~processors.bayesnet.BayesNet` with each node's counts as the two lists
    ``[Y=0, Y=1]`` they were written as before #14 (one array in memory; the same bytes)."""
    from processors.bayesnet import halves

    out = attributes("BayesNet", bn)
    out["tables"] = {n: [h.tolist() for h in halves(t)] for n, t in bn.tables.items()}
    return out


def after_bayesnet(bn: Any) -> None:
    from processors.bayesnet import flat

    tables = bn.tables  # node -> [y][state] counts: two lists in the snapshot, one array here
    if not all(type(n) is str and type(t) is list and len(t) == 2 and all(
            type(r) is list and len(r) == len(t[0]) and all(type(v) in (float, int) for v in r)
            for r in t) for n, t in tables.items()):
        raise ContractError("state: BayesNet.tables is not a map of node to two lists of "
                            "counts of one length")
    bn.tables = {n: flat(t) for n, t in tables.items()}


def after_component(st: Any) -> None:
    from processors.componentstate import shared_statuses

    def share(s: Any) -> Any:  # only maps of rule to int, as the pipeline writes them
        plain = type(s) is dict and all(type(n) is str and type(v) is int for n, v in s.items())
        return shared_statuses(s) if plain else s

    st.last_status = share(st.last_status)
    st.window_status = {k: share(v) for k, v in st.window_status.items()}


def encode_novelty(m: Any) -> dict[str, Any]:
    """A :class:`~processors.univariate.ContextNovelty` with its seen contexts as the bitmap
    they were written as before #14 (compact in memory while few; the same bytes)."""
    from processors.seenset import bitmap

    out = attributes("ContextNovelty", m)
    out["seen"] = bitmap(m.seen, m.bits)
    if m.seen_coarse is not None:  # the coarse contexts' own set (s18)
        out["seen_coarse"] = bitmap(m.seen_coarse, m.bits)
    return out


def after_novelty(m: Any) -> None:
    from processors.univariate import interned_levels

    size = (1 << m.bits) >> 3 if type(m.bits) is int and 3 <= m.bits <= 24 else -1
    sc = m.seen_coarse
    m.seen = _held(m.seen, m.bits, size)
    if m.coarse:  # a set of its own since s18; written before, the coarse contexts start anew
        m.seen_coarse = empty(m.bits) if sc is None else _held(sc, m.bits, size)
    elif sc is not None:
        raise ContractError("state: ContextNovelty.seen_coarse without coarse")
    if all(type(v) is int for v in m.levels):  # one object for equal contexts, as live (#14)
        m.levels = interned_levels(m.levels)


def _held(seen: bytearray, bits: int, size: int) -> bytearray:
    """A seen set as read, in the form a live model holds: a bitmap (VERSION 3 wrote only
    bitmaps) turned compact where that is shorter; a compact form (VERSION 4 writes the form
    held) only if it is the one a live model holds for its set (sorted, counts that add up)."""
    if size > 0 and len(seen) == size:
        return restored(seen, bits)
    head = 1 << max(bits - 8, 0) if size > 0 else size
    if head <= len(seen) < size and sum(seen[:head]) == len(seen) - head and restored(
            bitmap(seen, bits), bits) == seen:
        return seen
    raise ContractError("state: ContextNovelty.seen is not a bitmap of 2**bits bits nor its "
                        "compact form")
