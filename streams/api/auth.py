"""Bearer tokens for the API: ``FOREWARN_API_TOKENS`` = ``name:role:secret`` entries, comma
separated, role ``read`` or ``write`` (write implies read).

With tokens configured every ``/v1`` request needs one (reads: any role; writes: ``write``);
with none, the API is open and must bind to loopback only (:func:`check_bind`).

>>> t = parse_tokens("ops:write:s3cret-0p5, grafana:read:r3ad-gr4f")
>>> t.role("s3cret-0p5"), t.role("r3ad-gr4f"), t.role("nope")
('write', 'read', None)
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from schemas.errors import ConfigError

ROLES = ("read", "write")
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Token:
    name: str
    role: str
    secret: str

    def __repr__(self) -> str:  # never log a secret
        return f"Token({self.name!r}, {self.role!r})"


@dataclass(frozen=True)
class Tokens:
    tokens: tuple[Token, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.tokens)

    def find(self, secret: str) -> Token | None:
        found = None
        for t in self.tokens:  # compare with every one, in constant time
            if hmac.compare_digest(t.secret.encode(), secret.encode()):
                found = t
        return found

    def role(self, secret: str) -> str | None:
        t = self.find(secret)
        return None if t is None else t.role


def parse_tokens(spec: str) -> Tokens:
    """``name:role:secret,...`` → :class:`Tokens`; a bad entry is a ConfigError naming it."""
    out: list[Token] = []
    for item in (x.strip() for x in spec.split(",")):
        if not item:
            continue
        parts = item.split(":", 2)
        if len(parts) != 3 or not all(parts):
            raise ConfigError(
                f"api_tokens: entry #{len(out) + 1} is not name:role:secret"
            )
        name, role, secret = parts
        if role not in ROLES:
            raise ConfigError(f"api_tokens: token {name!r} has role {role!r}; use read or write")
        if len(secret) < 8:
            raise ConfigError(f"api_tokens: token {name!r} is shorter than 8 characters")
        out.append(Token(name, role, secret))
    return Tokens(tuple(out))


def check_bind(host: str, tokens: Tokens) -> str | None:
    """Refuse a non-loopback bind without tokens; the line to print about it, if any."""
    if tokens.enabled:
        return None
    if host not in LOOPBACK:
        raise ConfigError(
            f"the API would listen on {host} with no tokens: set FOREWARN_API_TOKENS "
            "(name:role:secret,...) or bind to 127.0.0.1"
        )
    return f"no FOREWARN_API_TOKENS: the API is open, so it listens on {host} only"
