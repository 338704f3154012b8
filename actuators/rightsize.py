"""Right-sizing: the allocation of one resource of one component, step by step, from its demand.

One object per (component, resource) and policy. The same objects run in ``forewarn backtest
trace`` (``streams/lab/trace/``) and under ``forewarn actuate`` (``RightSizing`` below turns
samples into AllocationCommands). Each object serves a vector of values of its policy's one
knob at once (a backtest sweeps them over one pass; live, a vector of one)::

    sz = make_sizer("forewarn", knobs=(0.01,), capacity=8_218_624.0, step_s=300, delay_s=300)
    sz.observe(ts_s, usage, allocated)   # a new demand sample; the allocation(s) then in effect
    sz.on_risk(risk)                     # a RiskScore dict from the Pipeline (forewarn only)
    sz.recommend(ts_s)                   # np.ndarray: the allocation to ask for now, per knob

``usage`` is absolute demand (MHz, KB, ...), never a utilisation, so a change of allocation is
not read as a change of demand. ``capacity`` is the component's provisioned size (what
``static`` keeps, and every policy's allocation before its first decision takes effect).

Policies (each cites what it follows; its knob and default in ``KNOBS``):

* ``static``  — the provisioned capacity, times the knob (1.0).
* ``reactive`` — Kubernetes' HorizontalPodAutoscaler rule on one resource: target utilisation
  (knob, 0.7), 10 % tolerance, scale-down to the largest recommendation of the last 300 s.
* ``vpa`` — the Kubernetes Vertical Pod Autoscaler recommender and updater (knob: the target
  percentile, 0.9); see :class:`VpaSizer`.
* ``autopilot`` — Google Autopilot's moving-window recommenders and its choice among window
  models by cost (Rzadca et al., EuroSys 2020; knob: the safety margin, 0.1); see
  :class:`AutopilotSizer`.
* ``forewarn`` — sized by cost (knob: lambda, 0.01) from *forecast demand* over the next delay plus
  decision interval, learnt per component; the pipeline's risk overrides it; see
  :class:`ForewarnSizer`.

Pure: no clock, no I/O, no Kafka; event time only (``ts`` in seconds).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from actuators.forecast_sizing import ForewarnSizer
from actuators.peers import AutopilotSizer, HpaSizer, StaticSizer, VpaSizer
from actuators.signal import signal
from actuators.sizefollow import FollowingSizer
from actuators.sizerbase import (
    DEFAULT_KNOB,
    KNOBS,
    POLICIES,
    DecayingHistogram,
    Record,
    Sizer,
)
from schemas.errors import ConfigError

__all__ = ["DEFAULT_KNOB", "KNOBS", "POLICIES", "AutopilotSizer", "DecayingHistogram",
           "ForewarnSizer", "HpaSizer", "InEffect", "RightSizing", "Sizer", "StaticSizer",
           "VpaSizer", "make_sizer"]


class InEffect:
    """Which decided allocation is in effect when: a decision made at ``ts`` acts from the
    first sample at or after ``ts + delay_s`` (never on the sample it was made on); before
    any, ``initial``. The backtest's loop and :class:`RightSizing` both keep time with it."""

    def __init__(self, initial: np.ndarray, delay_s: int) -> None:
        self.effect = initial
        self.delay_s = int(delay_s)
        self.decided: deque[tuple[int, np.ndarray]] = deque()

    def at(self, ts: int) -> np.ndarray:
        """The allocation in effect at ``ts`` (call before deciding on the sample at ``ts``)."""
        while self.decided and self.decided[0][0] + self.delay_s <= ts:
            self.effect = self.decided.popleft()[1]
        return self.effect

    def decide(self, ts: int, alloc: np.ndarray) -> None:
        self.decided.append((ts, alloc))


# resource -> (metric of demand, metric of the provisioned size, AllocationCommand resource)
SAMPLE_METRICS: dict[str, tuple[str, str, str]] = {
    "cpu": ("cpu.used_mhz", "cpu.capacity_mhz", "CPU_QUOTA"),
    "mem": ("mem.used_kb", "mem.capacity_kb", "MEMORY_HIGH"),
}
UNITS = {"cpu": "MHz", "mem": "KB"}


class RightSizing:
    """The fleet face ``forewarn actuate`` drives: one :class:`Sizer` per (component, resource)
    of one policy at one knob, fed ``MetricSample`` dicts (demand ``cpu.used_mhz``,
    ``mem.used_kb``; the provisioned size ``cpu.capacity_mhz``, ``mem.capacity_kb``, as
    ``streams.sim.traces.samples`` writes them) and ``RiskScore`` dicts; out come
    ``AllocationCommand`` GRANTs whenever a sizing changes: ``amount`` = the new allocation
    minus the provisioned size (negative: under it), in the demand's unit, ``lease_s`` 0
    (it holds until the next), the allocation itself in ``reason``. A component's sizer starts
    on its first sample that gives its provisioned size. The backtest
    (``streams/lab/trace/loop.py``) calls the same sizers with the same :class:`InEffect`
    timing, so the same samples give the same decisions."""

    def __init__(self, policy: str, knob: float | None = None, *, delay_s: int = 300,
                 step_s: int = 300, resources: Sequence[str] = ("cpu", "mem"),
                 options: Mapping[str, Any] | None = None) -> None:
        if policy not in POLICIES:
            raise ConfigError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")
        self.policy = policy
        self.knob = DEFAULT_KNOB[policy] if knob is None else float(knob)
        self.delay_s, self.step_s = int(delay_s), int(step_s)
        self.resources = tuple(resources)
        self.options = dict(options or {})
        self.sizers: dict[tuple[str, str], Sizer] = {}
        self.timing: dict[tuple[str, str], InEffect] = {}
        self.capacity: dict[tuple[str, str], float] = {}
        self.sent: dict[tuple[str, str], float] = {}
        self.decisions: dict[tuple[str, str], list[tuple[int, float]]] = {}
        self.risk: dict[str, float] = {}

    def on_risk(self, risk: Mapping[str, Any]) -> None:
        comp = str(risk.get("component", ""))
        self.risk[comp] = signal(risk)[0]
        for res in self.resources:
            sz = self.sizers.get((comp, res))
            if sz is not None:
                sz.on_risk(risk)

    def on_sample(self, sample: Mapping[str, Any]) -> list[Record]:
        comp = str(sample["component"])
        host = str(sample.get("host") or comp.split("/", 1)[0])
        ts = int(sample["ts"]) // 1000
        metrics = sample.get("metrics") or {}
        out: list[Record] = []
        for res in self.resources:
            used_m, cap_m, resource = SAMPLE_METRICS[res]
            usage = metrics.get(used_m)
            if not isinstance(usage, int | float) or not math.isfinite(usage):
                continue
            key = (comp, res)
            if key not in self.sizers:
                cap = metrics.get(cap_m)
                if not isinstance(cap, int | float) or not cap > 0:
                    continue
                self.capacity[key] = float(cap)
                self.sizers[key] = make_sizer(self.policy, (self.knob,), capacity=float(cap),
                                              step_s=self.step_s, delay_s=self.delay_s,
                                              resource=res, **self.options)
                self.timing[key] = InEffect(np.array([float(cap)]), self.delay_s)
                self.sent[key] = float(cap)
            sz, timing = self.sizers[key], self.timing[key]
            effect = timing.at(ts)
            cap = metrics.get(cap_m)
            if isinstance(cap, int | float) and math.isfinite(cap) and cap > 0:
                sz.observe_capacity(ts, float(cap))  # a VM resized: every policy follows
                self.capacity[key] = float(cap)
            sz.observe(ts, float(usage), effect)
            alloc = sz.recommend(ts)
            timing.decide(ts, alloc)
            amount = float(alloc[0])
            self.decisions.setdefault(key, []).append((ts, amount))
            if amount != self.sent[key]:
                self.sent[key] = amount
                out.append(self._command(comp, host, ts, res, resource, amount))
        return out

    def _command(self, comp: str, host: str, ts: int, res: str, resource: str,
                 amount: float) -> Record:
        from actuators.contract import command_id, make_command

        extra = amount - self.capacity[(comp, res)]
        cid = command_id(comp, resource, "GRANT", f"rightsize|{self.policy}|{ts}")
        return make_command(cid, comp, host, ts * 1000, resource, "GRANT", extra, UNITS[res], 0,
                            f"rightsize {self.policy} {KNOBS[self.policy][0]}={self.knob:g}: "
                            f"allocation {amount:.6g} {UNITS[res]}", self.risk.get(comp, 0.0),
                            0)


_CLASSES: dict[str, type[Sizer]] = {"static": StaticSizer, "reactive": HpaSizer,
                                    "vpa": VpaSizer, "autopilot": AutopilotSizer,
                                    "forewarn": FollowingSizer}  # ForewarnSizer + follow


def make_sizer(policy: str, knobs: Sequence[float] | None = None, *, capacity: float,
               step_s: int = 300, delay_s: int = 300, resource: str = "cpu",
               **options: Any) -> Sizer:
    """A :class:`Sizer` of ``policy`` for ``knobs`` (default: the policy's default knob)."""
    if policy not in _CLASSES:
        raise ConfigError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")
    knobs = (DEFAULT_KNOB[policy],) if knobs is None else tuple(knobs)
    return _CLASSES[policy](knobs, capacity, step_s=step_s, delay_s=delay_s, resource=resource,
                            **options)
