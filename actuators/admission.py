"""Admission of components and hosts the engine has never seen: what a writer forging ids can
make the engine take on.

A risk score of a component the engine does not know yet is admitted only while

- its host has taken fewer than ``max_new_components_per_host`` new components in the last
  ``new_component_window_s`` (forged ids cannot fill one host's pools), and
- when its host is new too, fewer than ``max_new_hosts`` new hosts came in the last
  ``new_host_window_s`` (forged host names cannot open pools without end). The first window
  after the engine's first risk score is not capped (a fresh actuator learns its fleet then);
  hosts known before a restart come back through their components, which are never refused.

Arrival times never go back (each queue's clock is the largest stamp it saw), so stamps in
the past do not reopen a window. Refusals are counted (``refused_components``,
``refused_hosts``). Pure: plain values in, a bool out.

The windows, the known hosts and the first arrival are part of the engine's saved state
(:meth:`Admission.to_dict`, :meth:`Admission.load`): a restarted actuator keeps counting where
it stopped, so crashing it neither opens a fresh allowance nor a new uncapped first window.

>>> a = Admission(max_per_host=2, component_window_s=60, max_hosts=1, host_window_s=60)
>>> [a.admit(h, 0) for h in ("h1", "h1", "h1")]  # the first window: hosts not capped
[True, True, False]
>>> a.admit("h2", 70_000), a.admit("h3", 80_000), a.refused_hosts
(True, False, 1)
>>> a.admit("h3", 80_000 + 60_000), a.refused_components  # h2 left the host window
(True, 1)
>>> b = Admission(max_per_host=2, component_window_s=60, max_hosts=1, host_window_s=60)
>>> b.load(a.to_dict()); b.admit("h4", 150_000), b.admit("h1", 150_000)  # a restart
(False, True)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any


class _Window:
    """Arrival times within a sliding window; the clock never goes back."""

    def __init__(self, window_s: int) -> None:
        self.window_ms = window_s * 1000
        self.times: deque[int] = deque()

    def count(self, ts: int) -> tuple[int, int]:
        """(arrivals still in the window at ``ts``, the time ``ts`` counts as)."""
        q = self.times
        t = max(ts, q[-1]) if q else ts
        while q and q[0] <= t - self.window_ms:
            q.popleft()
        return len(q), t


class Admission:
    """The caps on new components per host and on new hosts (0: no cap)."""

    def __init__(self, max_per_host: int, component_window_s: int, max_hosts: int = 0,
                 host_window_s: int = 3600) -> None:
        self.max_per_host = max_per_host
        self.component_window_s = component_window_s
        self.max_hosts = max_hosts
        self.hosts = _Window(host_window_s)
        self._by_host: dict[str, _Window] = {}
        self._known_hosts: set[str] = set()
        self._first_ms: int | None = None
        self.refused_components = 0
        self.refused_hosts = 0

    def admit(self, host: str, ts: int) -> bool:
        """Whether a component never seen before, on ``host``, at ``ts``, may be taken now."""
        if self._first_ms is None:
            self._first_ms = ts
        new_host = host not in self._known_hosts
        capped = new_host and self._hosts_capped(ts)
        if capped and self.hosts.count(ts)[0] >= self.max_hosts:
            self.refused_hosts += 1
            return False
        if self.max_per_host > 0:
            w = self._by_host.setdefault(host, _Window(self.component_window_s))
            n, t = w.count(ts)
            if n >= self.max_per_host:
                self.refused_components += 1
                return False
            w.times.append(t)
        if new_host:
            self._known_hosts.add(host)
            if capped:  # arrivals of the first window do not count against the next
                self.hosts.times.append(self.hosts.count(ts)[1])
        return True

    def to_dict(self) -> dict[str, Any]:
        """The counting state as plain values (msgpack/JSON-ready), config and the refusal
        counters excluded (they are the process's metrics): it changes only when something is
        admitted, so saving it costs nothing while a flood is refused. Each host's arrivals
        older than its window (by its own clock) are left out: they can never count again."""
        by_host = {}
        for host, w in sorted(self._by_host.items()):
            if w.times:
                last = w.times[-1]
                by_host[host] = [t for t in w.times if t > last - w.window_ms]
        return {
            "first_ms": self._first_ms,
            "hosts": list(self.hosts.times),
            "by_host": by_host,
            "known_hosts": sorted(self._known_hosts),
        }

    def load(self, state: Mapping[str, Any] | None) -> None:
        """Take up a :meth:`to_dict` (None: a state saved before admission was: start fresh).
        The refusal counters are kept as they are."""
        state = state or {}
        self.hosts.times = deque(int(t) for t in state.get("hosts", ()))
        self._by_host = {}
        for host, times in state.get("by_host", {}).items():
            w = self._by_host[str(host)] = _Window(self.component_window_s)
            w.times = deque(int(t) for t in times)
        self._known_hosts = {str(h) for h in state.get("known_hosts", ())}
        first = state.get("first_ms")
        self._first_ms = None if first is None else int(first)

    def _hosts_capped(self, ts: int) -> bool:
        """Whether the new-host cap applies at ``ts``: on, and past the first window."""
        if self.max_hosts <= 0 or self._first_ms is None:
            return False
        last = self.hosts.times[-1] if self.hosts.times else ts
        return max(ts, last) >= self._first_ms + self.hosts.window_ms
