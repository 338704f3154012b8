"""A fleet prior for a young component's sizing (``fleet_prior``; issue #11, session 25; the
default since then, ``"builtin"``): forewarn's forecasters start from the burst statistics of
*other* components instead of an empty histogram.

Why: started cold on days 15-30 of the real traces, forewarn's memory sizing was dominated at
every lambda by the same days sized warm (more violation minutes *and* more unused capacity):
a histogram a few days old has not seen the week's bursts (docs/closedloop.md, "A cold start
that holds (session 24)"). What warm has and cold lacks is the week's burst statistics; other
components have them.

The prior is a file (JSON, :data:`FORMAT`) holding, per forecaster (``level``, ``window``,
``peak``, ``week``), the distribution of the outcome over the forecaster's base (the ratio each
histogram records) over the histogram's buckets, pooled over *training* components, each
weighing 1 (:func:`learn`, :class:`Pool`; ``forewarn prior learn`` runs it on a fleet's own
exported traces, ``streams/cli/prior.py``). On a component's first sample each of its histograms
is seeded with that distribution at the weight a warm histogram holds (``1 / (1 - 2 **
(-step / half-life))`` outcomes, about 2,910 at 5-minute steps and a 7-day half-life: the
prior stands in for a week-old history); the seed then decays with the histogram's half-life
like any outcome and is also taken out linearly over ``horizon_s`` (the ``week``
forecaster's 7 days), so from a week on the histograms hold the component's own outcomes
only. No value is chosen on labels: the weight and the horizon are the sizer's own constants.

Live, ``forewarn actuate`` loads the same file (a setting names it) and seeds each sizer on its
component's first sample, as the backtest does. ``"builtin"`` names the prior shipped with
forewarn (:data:`BUILTIN_PATH`, learnt on the shared subset's 100 VMs over 30 days). The
simulator's fleet engine never uses one. Pure: no clock; the file is read once per path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from actuators.forecast_sizing import ForewarnSizer
from actuators.sizerbase import DAY, DecayingHistogram
from schemas.errors import ConfigError

FORMAT = "forewarn-fleet-prior/1"
HORIZON_S = 7 * DAY  # the ``week`` forecaster's span
# ``fleet_prior="builtin"``: the prior shipped with forewarn, learnt on the shared Bitbrains
# subset (GWA-T-12 Rnd, 2013-07, VMs 1-100, all 30 days; docs/analysis/s25-trace-fleet/learn.py)
BUILTIN = "builtin"
BUILTIN_PATH = Path(__file__).with_name("fleet_prior_bitbrains.json")


def named(value: str) -> str:
    """The prior a setting names, ``""`` for none (``""`` or ``"off"``)."""
    return "" if str(value) in ("", "off") else str(value)


def resolve(path: str | Path) -> str:
    """The file a ``fleet_prior`` value names: :data:`BUILTIN` is the shipped one."""
    return str(BUILTIN_PATH) if str(path) == BUILTIN else str(path)


@lru_cache(maxsize=8)
def _read(path: str) -> tuple[int, tuple[tuple[str, tuple[tuple[int, float], ...]], ...]]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        if doc.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT}")
        n = int(doc["buckets"])
        rows = tuple((str(name), tuple((int(i), float(w)) for i, w in pairs))
                     for name, pairs in sorted(doc["forecasters"].items()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"fleet prior {path}: {exc!r}") from exc
    return n, rows


def load(path: str | Path) -> dict[str, np.ndarray]:
    """Per forecaster, the prior's share of each bucket (each sums to 1; read-only arrays, one
    copy per path, shared by every sizer): a ConfigError with one line on a bad file."""
    return _load(resolve(path))


@lru_cache(maxsize=8)
def _load(path: str) -> dict[str, np.ndarray]:
    n, rows = _read(path)
    out: dict[str, np.ndarray] = {}
    for name, pairs in rows:
        p = np.zeros(n)
        for i, w in pairs:
            if not (0 <= i < n and w >= 0):
                raise ConfigError(f"fleet prior {path}: bucket {i} weight {w}")
            p[i] += w
        if p.sum() > 0:
            out[name] = p / p.sum()
            out[name].setflags(write=False)
    return out


class FleetPrior:
    """The seed of one sizer's histograms: ``seed`` on the first sample, ``fade`` on each
    later one (the seed's remaining share ``1 - age / horizon_s``, gone from ``horizon_s``)."""

    def __init__(self, shares: dict[str, np.ndarray], weight: float,
                 horizon_s: float = HORIZON_S) -> None:
        if not weight > 0 or not horizon_s > 0:
            raise ConfigError("fleet prior: weight > 0 and horizon_s > 0")
        self.shares, self.weight, self.horizon = shares, float(weight), float(horizon_s)
        self.t0: int | None = None
        self.left = 0.0  # the seed's remaining share of its weight (before decay)

    def _apply(self, hists: Sequence[DecayingHistogram], names: Sequence[str],
               share: float) -> None:
        assert self.t0 is not None
        for name, h in zip(names, hists, strict=True):
            p = self.shares.get(name)
            if p is None or h.ref is None:
                continue
            if p.size != h.weights.size:
                raise ConfigError(f"fleet prior: {p.size} buckets, the histogram {h.weights.size}")
            add = (self.weight * share * 2.0 ** ((self.t0 - h.ref) / h.half_life)) * p
            before = h.weights.sum()
            np.maximum(h.weights + add, 0.0, out=h.weights)
            h.total = max(h.total + (h.weights.sum() - before), 0.0)

    def seed(self, hists: Sequence[DecayingHistogram], names: Sequence[str], ts: int) -> None:
        """Add the prior at its full weight, as outcomes of ``ts``."""
        self.t0, self.left = ts, 1.0
        for h in hists:
            if h.ref is None:
                h.ref = ts
        self._apply(hists, names, 1.0)

    def fade(self, hists: Sequence[DecayingHistogram], names: Sequence[str], ts: int) -> None:
        """Take out the share of the seed that age ``ts - t0`` no longer keeps."""
        if self.t0 is None or self.left <= 0.0:
            return
        keep = max(1.0 - (ts - self.t0) / self.horizon, 0.0)
        if keep < self.left:
            self._apply(hists, names, keep - self.left)
            self.left = keep


def warm_weight(step_s: int, half_life_s: float) -> float:
    """What a warm histogram holds: outcomes every ``step_s``, each halving per half-life."""
    return float(1.0 / (1.0 - 2.0 ** (-float(step_s) / half_life_s)))


def for_sizer(path: str, step_s: int, half_life_s: float) -> FleetPrior:
    """The prior in ``path`` at a warm histogram's weight (see the module docstring)."""
    return FleetPrior(load(path), warm_weight(step_s, half_life_s))


class _Recorder(ForewarnSizer):
    """The forecasters' own bookkeeping, no sizing: each outcome's bucket per forecaster."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.counts = np.zeros((len(self.names), self.hists[0].weights.size))

    def _learn(self, ts: int, got: float, bases: np.ndarray, own: np.ndarray | None) -> None:
        for i, h in enumerate(self.hists):
            self.counts[i, h.index(100.0 * got / bases[i])] += 1.0


class Pool:
    """Learn a prior: :meth:`add` each training component's series (it weighs 1), then
    :meth:`doc` is the file's content."""

    def __init__(self, names: Sequence[str] = ForewarnSizer.FORECASTERS[:4]) -> None:
        self.names = tuple(names)
        self.sums: np.ndarray | None = None
        self.components = 0

    def add(self, ts: np.ndarray, demand: np.ndarray, capacity: np.ndarray, step_s: int,
            delay_s: int) -> bool:
        """Add one component (``capacity``: its provisioned size per step, 0 where unknown,
        the first step's known); False, and nothing added, when it resolved no outcome."""
        rec = _Recorder((0.01,), float(capacity[0]), step_s=step_s, delay_s=delay_s,
                        resource="mem", forecasters=self.names)
        for t, d, c in zip(ts.tolist(), demand.tolist(), capacity.tolist(), strict=True):
            rec.observe_capacity(int(t), float(c))
            rec.observe(int(t), float(d))
            rec.pending.append((int(t), rec._bases(), None, None))
        totals = rec.counts.sum(axis=1, keepdims=True)
        if not np.all(totals > 0):
            return False
        shares = rec.counts / totals
        self.sums = shares if self.sums is None else self.sums + shares
        self.components += 1
        return True

    def doc(self) -> dict[str, Any]:
        if self.sums is None:
            raise ConfigError("fleet prior: no component learnt")
        mean = self.sums / self.components
        return {"format": FORMAT, "buckets": int(mean.shape[1]), "components": self.components,
                "forecasters": {n: [[int(i), round(float(mean[k, i]), 12)]
                                    for i in np.flatnonzero(mean[k])]
                                for k, n in enumerate(self.names)}}


# One component's history for :func:`learn`: its id, timestamps (Unix s), memory demand, the
# provisioned size per step (0 where unknown, the first step's known) and its usual step (s).
Series = tuple[str, np.ndarray, np.ndarray, np.ndarray, int]


def _unfit(ts: np.ndarray, demand: np.ndarray, min_span_s: float) -> str:
    """Why a component cannot teach the prior, ``""`` when it can."""
    if not np.any(demand > 0):
        return "no memory demand above 0"
    span = float(ts[-1] - ts[0]) if ts.size else 0.0
    if span < min_span_s:
        return f"too short: {span / 3600:.1f} h of samples, at least {min_span_s / 3600:g} h"
    return ""


def learn(series: Iterable[Series], delay_s: int, min_span_s: float = DAY,
          start: int | None = None, end: int | None = None,
          ) -> tuple[dict[str, Any], list[str]]:
    """The prior learnt on ``series`` (the file's content, :func:`dumps` writes it) and the
    components left out, ``"ID (why)"``: no memory demand, or samples spanning less than
    ``min_span_s``. Each component's forecasters run cold from its first sample with the
    sizer's own bookkeeping and ``delay_s`` (no sizing), every outcome's bucket counted; per
    forecaster each component's counts are normalised and the components averaged (each weighs
    1). ``start`` / ``end``: the window the series were cut to, recorded in the file. A
    ConfigError (one line) when no component is left."""
    pool, used, left = Pool(), [], []
    for comp, ts, demand, capacity, step_s in series:
        why = _unfit(ts, demand, min_span_s)
        if not why and not pool.add(ts, demand, capacity, step_s, delay_s):
            why = f"no outcome resolved within {delay_s + step_s} s"
        if why:
            left.append(f"{comp} ({why})")
        else:
            used.append(comp)
    if not used:
        shown = "; ".join(left[:3]) + (f"; and {len(left) - 3} more" if len(left) > 3 else "")
        raise ConfigError(f"fleet prior: no component to learn from: {shown or 'none given'}")
    doc = pool.doc()
    doc["trained_on"] = {"vms": used, "start": start, "end": end}
    return doc, left


def dumps(doc: dict[str, Any]) -> str:
    """A prior's file text: the same document, the same bytes."""
    return json.dumps(doc) + "\n"


__all__ = ["FORMAT", "FleetPrior", "Pool", "Series", "dumps", "for_sizer", "learn", "load",
           "warm_weight"]
