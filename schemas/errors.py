"""forewarn's one exception tree.

::

    ForewarnError                 base of everything forewarn raises on purpose
    ├── ConfigError               a setting is missing or wrong (names the setting)
    ├── ContractError             an event does not fit the Avro contract
    │   ├── DecodeError           bytes that no codec can read (goes to the dead-letter topic)
    │   │   └── AdapterError      Telegraf/Prometheus/OTel/Vector JSON an adapter cannot read
    │   ├── UnknownSchemaError    a fingerprint or registry id this reader does not know
    │   └── ValidationError       a record that does not match its schema when writing
    ├── BrokerError               the Kafka broker (or the embedded one) failed
    └── BackendError              an actuator backend could not apply a command

Messages say where (``topic[partition]@offset``, component id) and what to do.
"""

from __future__ import annotations


class ForewarnError(Exception):
    """Base of every error forewarn raises on purpose."""


class ConfigError(ForewarnError):
    """A setting is missing or invalid."""


class ContractError(ForewarnError):
    """An event does not fit the event contract."""


class DecodeError(ContractError):
    """Bytes that no codec can read."""


class UnknownSchemaError(DecodeError):
    """The writer's schema (fingerprint or registry id) is unknown to this reader."""


class ValidationError(ContractError):
    """A record does not match its schema."""


class BrokerError(ForewarnError):
    """The Kafka broker failed or could not be reached."""


class BackendError(ForewarnError):
    """An actuator backend could not apply a command."""
