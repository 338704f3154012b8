"""Connecting to a secured Kafka cluster: typed connection settings that reach librdkafka
(confluent-kafka: producers, consumers, admin) and Faust/aiokafka (the worker) alike.

Settings (``FOREWARN_<NAME>`` in the environment, or the TOML file):

=========================  =====================================================================
``security_protocol``      PLAINTEXT (default) | SSL | SASL_PLAINTEXT | SASL_SSL
``sasl_mechanism``         PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512 (SASL_* only)
``sasl_username``          the SASL user
``sasl_password``          its password (``FOREWARN_SASL_PASSWORD``; never logged), or
``sasl_password_file``     a file holding it (a Kubernetes secret mounted as a file)
``ssl_ca_location``        PEM file of the CA(s) that signed the brokers' certificates
``ssl_certificate_location``  PEM client certificate (mutual TLS; optional)
``ssl_key_location``       PEM private key of that certificate
``ssl_key_password``       its passphrase, or ``ssl_key_password_file``
``ssl_check_hostname``     verify the broker's host name against its certificate (default true)
=========================  =====================================================================

A secret is held as :class:`Secret`, whose ``repr`` and ``str`` are ``'***'``: settings, configs
and errors can be logged without leaking it. :func:`refused` turns a broker's authorisation
error into one line that names the principal, the operation and the resource.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.errors import ConfigError

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
ENV_PREFIX = "FOREWARN_"


class Secret:
    """A string that never shows itself: ``repr``/``str``/format give ``'***'``;
    :meth:`reveal` gives the value to the one place that needs it (a client config)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "'***'" if self._value else "''"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)


def _read_secret(path: str, what: str) -> Secret:
    try:
        return Secret(Path(path).read_text().strip())
    except OSError as exc:
        raise ConfigError(f"{what} file {path}: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class KafkaSecurity:
    """How to reach the brokers; the default is plaintext, no authentication."""

    protocol: str = "PLAINTEXT"
    mechanism: str = ""
    username: str = ""
    password: Secret = field(default_factory=lambda: Secret(""), repr=False)
    ca_location: str = ""
    certificate_location: str = ""
    key_location: str = ""
    key_password: Secret = field(default_factory=lambda: Secret(""), repr=False)
    check_hostname: bool = True

    def __post_init__(self) -> None:
        protocol = self.protocol.upper()
        object.__setattr__(self, "protocol", protocol)
        object.__setattr__(self, "mechanism", self.mechanism.upper())
        if protocol not in PROTOCOLS:
            raise ConfigError(f"security_protocol={self.protocol!r}: use {', '.join(PROTOCOLS)}")
        if self.sasl:
            if self.mechanism not in MECHANISMS:
                raise ConfigError(f"sasl_mechanism={self.mechanism!r} with {protocol}: use "
                                  f"{', '.join(MECHANISMS)}")
            if not self.username or not self.password:
                raise ConfigError(f"{protocol} needs sasl_username and sasl_password "
                                  "(or sasl_password_file)")
        elif self.mechanism or self.username:
            raise ConfigError(f"sasl_mechanism/sasl_username set but security_protocol is "
                              f"{protocol}: use SASL_SSL or SASL_PLAINTEXT")
        if not self.tls and (self.ca_location or self.certificate_location or self.key_location):
            raise ConfigError(f"ssl_* files set but security_protocol is {protocol}: use SSL "
                              "or SASL_SSL")
        if bool(self.certificate_location) != bool(self.key_location):
            raise ConfigError("ssl_certificate_location and ssl_key_location go together")
        for name in ("ca_location", "certificate_location", "key_location"):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                raise ConfigError(f"ssl_{name}={path}: no such file")

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @classmethod
    def from_settings(cls, settings: object, env: Mapping[str, str] | None = None
                      ) -> KafkaSecurity:
        """From a :class:`streams.settings.Settings` (its ``security_protocol``, ``sasl_*`` and
        ``ssl_*`` fields), secrets also from ``FOREWARN_SASL_PASSWORD`` /
        ``FOREWARN_SSL_KEY_PASSWORD`` or their ``*_file`` settings."""
        env = os.environ if env is None else env

        def get(name: str, default: Any = "") -> Any:
            value = getattr(settings, name, None)
            if value is None or value == "":
                value = env.get(f"{ENV_PREFIX}{name.upper()}", default)
            return value

        def secret(name: str) -> Secret:
            value = get(name)
            if isinstance(value, Secret):
                if value:
                    return value
            elif value:
                return Secret(str(value))
            path = get(f"{name}_file")
            return _read_secret(str(path), name) if path else Secret("")

        check = get("ssl_check_hostname", True)
        if isinstance(check, str):
            check = check.strip().lower() not in ("0", "false", "no", "off")
        return cls(
            protocol=str(get("security_protocol", "PLAINTEXT") or "PLAINTEXT"),
            mechanism=str(get("sasl_mechanism")),
            username=str(get("sasl_username")),
            password=secret("sasl_password"),
            ca_location=str(get("ssl_ca_location")),
            certificate_location=str(get("ssl_certificate_location")),
            key_location=str(get("ssl_key_location")),
            key_password=secret("ssl_key_password"),
            check_hostname=bool(check),
        )

    # -- librdkafka (confluent-kafka) --------------------------------------------------------

    def librdkafka(self) -> dict[str, Any]:
        """The librdkafka properties (empty for PLAINTEXT, so defaults stay as they were)."""
        if self.protocol == "PLAINTEXT":
            return {}
        conf: dict[str, Any] = {"security.protocol": self.protocol}
        if self.sasl:
            conf.update({"sasl.mechanism": self.mechanism, "sasl.username": self.username,
                         "sasl.password": self.password.reveal()})
        if self.tls:
            if self.ca_location:
                conf["ssl.ca.location"] = self.ca_location
            if self.certificate_location:
                conf["ssl.certificate.location"] = self.certificate_location
                conf["ssl.key.location"] = self.key_location
                if self.key_password:
                    conf["ssl.key.password"] = self.key_password.reveal()
            conf["ssl.endpoint.identification.algorithm"] = (
                "https" if self.check_hostname else "none")
        return conf

    # -- aiokafka / Faust --------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context for aiokafka (None without TLS)."""
        if not self.tls:
            return None
        ctx = ssl.create_default_context(cafile=self.ca_location or None)
        ctx.check_hostname = self.check_hostname
        if self.certificate_location:
            ctx.load_cert_chain(self.certificate_location, self.key_location,
                                self.key_password.reveal() or None)
        return ctx

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's clients."""
        if self.protocol == "PLAINTEXT":
            return {}
        kw: dict[str, Any] = {"security_protocol": self.protocol}
        if self.tls:
            kw["ssl_context"] = self.ssl_context()
        if self.sasl:
            kw.update({"sasl_mechanism": self.mechanism, "sasl_plain_username": self.username,
                       "sasl_plain_password": self.password.reveal()})
        return kw

    def faust_credentials(self) -> Any:
        """``broker_credentials`` for ``faust.App`` (None for PLAINTEXT)."""
        if self.protocol == "PLAINTEXT":
            return None
        import faust

        if self.sasl:
            creds = faust.SASLCredentials(username=self.username,
                                          password=self.password.reveal(),
                                          ssl_context=self.ssl_context(),
                                          mechanism=self.mechanism)
            if not self.tls:  # SASLCredentials sets SASL_SSL only when given a context
                from faust.types.auth import AuthProtocol

                creds.protocol = AuthProtocol.SASL_PLAINTEXT
            return creds
        return faust.SSLCredentials(self.ssl_context())

    def describe(self) -> str:
        """One loggable line: protocol, mechanism, user and files, never a secret."""
        parts = [self.protocol]
        if self.sasl:
            parts.append(f"{self.mechanism} as {self.username!r}")
        if self.tls:
            parts.append(f"CA {self.ca_location or 'system'}")
            if self.certificate_location:
                parts.append(f"client cert {self.certificate_location}")
        return ", ".join(parts)


AUTH_CODES = {
    "TOPIC_AUTHORIZATION_FAILED": "topic",
    "GROUP_AUTHORIZATION_FAILED": "group",
    "CLUSTER_AUTHORIZATION_FAILED": "cluster",
    "TRANSACTIONAL_ID_AUTHORIZATION_FAILED": "transactional id",
    "SASL_AUTHENTICATION_FAILED": "authentication",
    "_AUTHENTICATION": "authentication",  # librdkafka's error callback
    "SaslAuthenticationFailed": "authentication",  # aiokafka
    "Authentication failed": "authentication",
    "TopicAuthorizationFailedError": "topic",
    "GroupAuthorizationFailedError": "group",
    "ClusterAuthorizationFailedError": "cluster",
}


def refused(exc: BaseException | object, role: str, operation: str, resource: str,
            security: KafkaSecurity | None = None) -> str | None:
    """One clear line when ``exc`` is the broker refusing this principal (an ACL or SASL
    failure), else None. ``role`` is the process (worker, actuator, shipper, operator)."""
    text = f"{type(exc).__name__} {exc}"
    kind = next((v for k, v in AUTH_CODES.items() if k in text), None)
    if kind is None:
        return None
    who = (f"User:{security.username}" if security is not None and security.sasl
           else "this principal")
    if kind == "authentication":
        return (f"{role}: the broker refused to authenticate {who} "
                f"({security.describe() if security else 'see security_protocol'}): check "
                "sasl_username, the password and sasl_mechanism")
    return (f"{role}: not authorised to {operation} {resource} as {who} "
            f"({kind} ACL missing; see docs/security.md for the ACLs of each role)")


# -- ACLs per role (docs/security.md) -------------------------------------------------------

# role -> (resource type, name, pattern, operations). Names are catalog topic names (the
# prefix is added), "{worker_group}" / "{actuator_group}" (the settings' group ids), or a
# literal ending in "-" for a prefix. Faust creates its own topics named after the worker group.
ROLE_ACLS: dict[str, tuple[tuple[str, str, str, tuple[str, ...]], ...]] = {
    "shipper": (
        ("topic", "metrics", "literal", ("WRITE", "DESCRIBE")),
    ),
    "worker": (
        ("topic", "metrics", "literal", ("READ", "DESCRIBE")),
        ("topic", "allocations", "literal", ("READ", "DESCRIBE")),  # acted intervals
        ("topic", "health", "literal", ("WRITE", "DESCRIBE")),
        ("topic", "risk", "literal", ("WRITE", "DESCRIBE")),
        ("topic", "deadletter", "literal", ("WRITE", "DESCRIBE")),
        ("topic", "checkpoints", "literal", ("READ", "WRITE", "DESCRIBE")),
        ("group", "{worker_group}", "prefixed", ("READ", "DESCRIBE")),
        ("topic", "{worker_group}-", "prefixed", ("ALL",)),  # Faust's own topics
    ),
    "actuator": (
        ("topic", "risk", "literal", ("READ", "DESCRIBE")),
        ("topic", "health", "literal", ("READ", "DESCRIBE")),
        ("topic", "preferences", "literal", ("READ", "DESCRIBE")),
        ("topic", "allocations", "literal", ("WRITE", "DESCRIBE")),
        ("topic", "outcomes", "literal", ("WRITE", "DESCRIBE")),
        ("topic", "deadletter", "literal", ("WRITE", "DESCRIBE")),
        ("group", "{actuator_group}", "prefixed", ("READ", "DESCRIBE")),
    ),
    "operator": (
        ("topic", "preferences", "literal", ("READ", "WRITE", "DESCRIBE")),
    ),
    # `forewarn ingest`: also READ on its source topic, which the administrator names
    "ingest": (
        ("topic", "metrics", "literal", ("WRITE", "DESCRIBE")),
        ("topic", "deadletter", "literal", ("WRITE", "DESCRIBE")),
        ("group", "forewarn-ingest-", "prefixed", ("READ", "DESCRIBE")),
    ),
}


def role_acls(role: str, settings: Any, principal: str) -> list[Any]:
    """confluent-kafka ``AclBinding``s that give ``principal`` (``User:name``) what ``role``
    needs and nothing more; ``AdminClient.create_acls`` applies them."""
    from confluent_kafka.admin import (
        AclBinding,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
    )

    if role not in ROLE_ACLS:
        raise ConfigError(f"role {role!r}: use {', '.join(ROLE_ACLS)}")
    groups = {"{worker_group}": settings.worker_group,
              "{actuator_group}": settings.actuator_group}
    out = []
    for kind, name, pattern, ops in ROLE_ACLS[role]:
        if name.startswith("{"):
            group_name = next(v for k, v in groups.items() if name.startswith(k))
            resolved = group_name + name.split("}", 1)[1]
        elif kind == "group":
            resolved = name
        else:
            resolved = settings.topic(name)
        for op in ops:
            out.append(AclBinding(
                ResourceType.TOPIC if kind == "topic" else ResourceType.GROUP, resolved,
                ResourcePatternType.PREFIXED if pattern == "prefixed"
                else ResourcePatternType.LITERAL,
                principal, "*", getattr(AclOperation, op), AclPermissionType.ALLOW))
    return out
