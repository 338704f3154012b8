"""The backend seam: ``apply(command) -> outcome``, idempotent by ``command_id``.

A backend turns an ``AllocationCommand`` dict into an ``AllocationOutcome`` dict. Commands
arrive at least once (Kafka redelivers after a rebalance, the engine replays), so applying the
same ``command_id`` twice must act once: :class:`IdempotentBackend` keeps a bounded LRU map of
``command_id`` → outcome and answers repeats from it. It also refuses, with a ``REJECTED``
outcome that says why, the commands for hosts or components it does not own, so several
backends can share one commands topic.

Amount semantics, for every backend: a ``GRANT`` sets the component's lease on the resource to
``amount`` (the extra over its baseline, in ``unit``) — it replaces the previous grant, it does
not add to it; ``RELEASE`` and ``PREEMPT`` take the whole lease back to the baseline. A GRANT's
``amount`` below zero is a scale-down: the component is set *below* its baseline by that much
(``-250`` millicores of CPU_QUOTA on a 1000 baseline leaves 750), and its RELEASE restores the
baseline. RELEASE and PREEMPT carry the lease's amount for the record, so theirs may be
negative too; whatever the action, ``amount`` must be a finite number.

>>> from actuators.backends.dryrun import DryRunBackend
>>> backend = DryRunBackend(hosts=("web-*",))
>>> cmd = {"command_id": "c1", "component": "web-1/db", "host": "web-1", "ts": 0,
...        "resource": "CPU_WEIGHT", "action": "GRANT", "amount": 200.0, "unit": "weight",
...        "lease_s": 900, "reason": "test", "risk": 0.8, "priority": 580}
>>> backend.apply(cmd)["status"], backend.apply(cmd)["status"], backend.actions
('APPLIED', 'APPLIED', 1)
>>> backend.apply({**cmd, "command_id": "c2", "host": "db-1"})["status"]
'REJECTED'
"""

from __future__ import annotations

import fnmatch
import logging
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from actuators.contract import ACTIONS as ACTIONS  # re-exported: backends import them here
from actuators.contract import COMMAND_FIELDS as COMMAND_FIELDS
from actuators.contract import STATUSES as STATUSES
from actuators.contract import Record as Record
from actuators.contract import command_problem as command_problem
from actuators.contract import make_outcome as make_outcome
from schemas.errors import BackendError, ConfigError

log = logging.getLogger(__name__)

@runtime_checkable
class Backend(Protocol):
    """Anything that applies allocation commands and reports what happened."""

    name: str

    def apply(self, command: Mapping[str, Any]) -> Record:
        """Apply ``command`` (at most once per ``command_id``); return its outcome."""
        ...


class OutcomeCache:
    """A bounded map ``command_id`` → outcome; the least recently used entry goes first."""

    def __init__(self, maxsize: int = 10_000) -> None:
        if maxsize < 1:
            raise ValueError("OutcomeCache maxsize must be >= 1")
        self.maxsize = maxsize
        self._items: OrderedDict[str, Record] = OrderedDict()

    def get(self, command_id: str) -> Record | None:
        outcome = self._items.get(command_id)
        if outcome is not None:
            self._items.move_to_end(command_id)
            return dict(outcome)
        return None

    def put(self, command_id: str, outcome: Mapping[str, Any]) -> None:
        self._items[command_id] = dict(outcome)
        self._items.move_to_end(command_id)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def __contains__(self, command_id: object) -> bool:
        return command_id in self._items

    def __len__(self) -> int:
        return len(self._items)


def check_options(backend: str, options: Any, valid: tuple[str, ...] | list[str]) -> None:
    """Refuse options that are not a table or name keys the backend does not know, naming
    them and listing the valid ones (the ``from_options`` of every backend starts here)."""
    if not isinstance(options, Mapping):
        raise ConfigError(f"{backend} backend options must be a table (a JSON object), "
                          f"got {type(options).__name__}")
    unknown = sorted(str(k) for k in options if k not in valid)
    if unknown:
        raise ConfigError(f"unknown {backend} backend option(s) {', '.join(map(repr, unknown))};"
                          f" valid: {', '.join(valid)}")


@dataclass(frozen=True)
class Ownership:
    """Which commands a backend takes: fnmatch globs over hosts and components; empty = all."""

    hosts: tuple[str, ...] = ()
    components: tuple[str, ...] = ()

    def refusal(self, command: Mapping[str, Any]) -> str | None:
        """Why the command is not ours, or None when it is."""
        host, component = str(command.get("host", "")), str(command.get("component", ""))
        if self.hosts and not any(fnmatch.fnmatchcase(host, g) for g in self.hosts):
            return f"host {host!r} is not owned (owned: {', '.join(self.hosts)})"
        if self.components and not any(
            fnmatch.fnmatchcase(component, g) for g in self.components
        ):
            return f"component {component!r} is not owned (owned: {', '.join(self.components)})"
        return None

    def owns(self, command: Mapping[str, Any]) -> bool:
        return self.refusal(command) is None


class IdempotentBackend(ABC):
    """Idempotence, ownership and error wrapping around one backend's ``_execute``.

    ``apply`` answers a repeated ``command_id`` from the cache without acting. ``FAILED``
    outcomes are not cached: nothing was done, so a redelivered command may try again.
    ``_execute`` raises :class:`BackendError` for what it cannot do; any other exception is
    a bug or an unwrapped client error, and is logged with its traceback. Both become
    ``FAILED`` outcomes: a backend never stops the actuator loop. A subclass sets up its own
    state in ``_setup`` rather than repeating this constructor's signature.
    """

    name: str = "backend"

    def __init__(
        self,
        *,
        hosts: tuple[str, ...] = (),
        components: tuple[str, ...] = (),
        cache_size: int = 10_000,
    ) -> None:
        self.ownership = Ownership(tuple(hosts), tuple(components))
        self._done = OutcomeCache(cache_size)
        self._setup()

    def _setup(self) -> None:  # noqa: B027 - an optional hook, not an abstract method
        """A subclass's own state, set up at the end of ``__init__`` (none here)."""

    def owns(self, command: Mapping[str, Any]) -> bool:
        return self.ownership.owns(command)

    def apply(self, command: Mapping[str, Any]) -> Record:
        command_id = str(command.get("command_id", ""))
        cached = self._done.get(command_id) if command_id else None
        if cached is not None:
            return cached
        component = str(command.get("component", ""))
        ts = command.get("ts")
        ts = ts if isinstance(ts, int) else 0
        problem = command_problem(command) or self.ownership.refusal(command)
        if problem is not None:
            outcome = make_outcome(command_id, component, ts, "REJECTED", problem, self.name)
        else:
            try:
                outcome = self._execute(command)
            except BackendError as exc:
                log.warning("%s: %s %s failed: %s", self.name, component, command_id, exc)
                outcome = make_outcome(command_id, component, ts, "FAILED", str(exc), self.name)
            except Exception as exc:  # a backend never stops the loop; the trace says where
                log.exception("%s: %s %s raised", self.name, component, command_id)
                detail = f"{type(exc).__name__}: {exc}"
                outcome = make_outcome(command_id, component, ts, "FAILED", detail, self.name)
        if command_id and outcome["status"] != "FAILED":
            self._done.put(command_id, outcome)
        return outcome

    @abstractmethod
    def _execute(self, command: Mapping[str, Any]) -> Record:
        """Act on one valid, owned, never-seen command; return its outcome."""
