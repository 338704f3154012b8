"""The simulator backend: applies commands to a simulated fleet, closing the loop.

More capacity lowers the simulated component's utilisation and latency from its next step on,
so policies can be compared on the same seeded scenario. The fleet is shared with the thread
that steps it, hence the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from actuators.backends.base import IdempotentBackend, Record
from schemas.errors import BackendError


class SimulatorBackend(IdempotentBackend):
    name = "simulator"

    def __init__(
        self,
        fleet: Any,
        lock: threading.Lock | None = None,
        *,
        hosts: tuple[str, ...] = (),
        components: tuple[str, ...] = (),
    ) -> None:
        super().__init__(hosts=hosts, components=components)
        self.fleet = fleet
        self.lock = lock or threading.Lock()

    def _execute(self, command: Mapping[str, Any]) -> Record:
        with self.lock:
            outcome = dict(self.fleet.apply(command))
        if outcome["status"] == "REJECTED":
            raise BackendError(f"simulator refused {command['command_id']}: {outcome['detail']}")
        return outcome
