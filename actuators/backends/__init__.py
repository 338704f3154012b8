"""Actuator backends: each applies ``AllocationCommand`` dicts and reports outcomes.

Only the seam and the client-free backends are imported here; a backend that needs a client
library (kubernetes, boto3, ...) is imported from its own module, so nobody pays for it unused.
"""

from actuators.backends.base import (
    Backend,
    IdempotentBackend,
    OutcomeCache,
    Ownership,
    command_problem,
    make_outcome,
)
from actuators.backends.dryrun import DryRunBackend

__all__ = [
    "Backend",
    "DryRunBackend",
    "IdempotentBackend",
    "OutcomeCache",
    "Ownership",
    "command_problem",
    "make_outcome",
]
