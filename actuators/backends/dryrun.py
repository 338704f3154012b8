"""The dry-run backend: logs what it would do and remembers it; touches nothing.

It keeps the state it would have applied, per (component, resource), so tests and the demo
can see the fleet as the commands would leave it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from actuators.backends.base import IdempotentBackend, Record, make_outcome

log = logging.getLogger(__name__)


class DryRunBackend(IdempotentBackend):
    """Applies nothing; answers ``APPLIED`` (with no measured effect) for every owned command.

    A GRANT of a negative amount (a scale-down) is kept as that negative amount: the state is
    always the amount relative to the baseline.
    """

    name = "dryrun"

    def _setup(self) -> None:
        self._state: dict[tuple[str, str], float] = {}
        self.actions = 0  # commands acted on; a repeated command_id does not count

    def _execute(self, command: Mapping[str, Any]) -> Record:
        key = (command["component"], command["resource"])
        action, amount, unit = command["action"], float(command["amount"]), command["unit"]
        if action == "GRANT" and amount < 0:  # a scale-down: below the baseline
            self._state[key] = amount
            detail = f"would scale {key[1]} of {key[0]} on {command['host']} down to "
            detail += f"{-amount:g} {unit} below its baseline for {command['lease_s']} s"
        elif action == "GRANT":
            self._state[key] = amount
            detail = f"would set {key[1]} lease of {key[0]} on {command['host']} to {amount:g} "
            detail += f"{unit} for {command['lease_s']} s"
        else:
            held = self._state.pop(key, 0.0)
            detail = f"would {action.lower()} {key[1]} lease of {key[0]} on {command['host']} "
            detail += f"({held:g} {unit} back to baseline)"
        self.actions += 1
        log.info("dry run: %s (%s) [%s]", detail, command["reason"], command["command_id"])
        return make_outcome(
            command["command_id"], command["component"], command["ts"], "APPLIED", detail,
            self.name,
        )

    def state(self) -> dict[tuple[str, str], float]:
        """The lease amounts the applied commands would have left, per (component, resource)."""
        return dict(self._state)
