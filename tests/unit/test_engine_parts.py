"""The engine's parts on their own (actuators/books.py, grant.py, easing.py): each policy acts on
one shared Books through one Decision, and the engine is their composition, not a subclass."""

from __future__ import annotations

from actuators.books import Books, Decision
from actuators.easing import Ease, ScaleDown
from actuators.engine import AllocationEngine
from actuators.grant import Grant
from tests.unit.test_engine import T0, config, risk

S = 1000


def decision(books: Books, record: dict, host: str = "web-1") -> Decision:
    """What AllocationEngine.on_risk hands its policies: the component's clock set on the
    books (commands are stamped with it) and the decision on this score."""
    component = str(record["component"])
    books.at_ms = int(record["ts"])
    comp = books.state(component)
    comp.risk = float(record["risk"])
    return Decision(record, component, host, books.prefs.resolve(component), comp,
                    int(record["ts"]), int(record["ts"]))


def test_the_engine_composes_its_policies_and_inherits_none() -> None:
    assert AllocationEngine.__mro__ == (AllocationEngine, object)


def test_grant_writes_its_lease_into_the_shared_books() -> None:
    books = Books(config())
    [cmd] = Grant(books)(decision(books, risk("web-1/db", T0, 0.8, upper=1.08)))
    assert (cmd["action"], cmd["resource"], cmd["amount"]) == ("GRANT", "CPU_WEIGHT", 30.0)
    lease = books.pool.get("web-1/db", "CPU_WEIGHT")
    assert lease is not None and lease.command_id == cmd["command_id"]
    assert books.comps["web-1/db"].last_grant_ms == {"CPU_WEIGHT": T0}


def test_a_policy_sees_what_another_wrote_renew_after_grant() -> None:
    books = Books(config())
    grant = Grant(books)
    grant(decision(books, risk("web-1/db", T0, 0.8, upper=1.08)))
    # within the cooldown the held lease is neither renewed nor granted again
    assert grant(decision(books, risk("web-1/db", T0 + 60 * S, 0.8, upper=1.08))) == []
    # after it, the held lease is renewed (Renew, on the lease Grant opened), not granted anew
    [cmd] = grant(decision(books, risk("web-1/db", T0 + 500 * S, 0.8, upper=1.08)))
    assert cmd["action"] == "GRANT" and "still >= 0.6" in cmd["reason"]
    assert len(books.pool.of_component("web-1/db")) == 1
    assert books.pool.get("web-1/db", "CPU_WEIGHT").granted_ms == T0 + 500 * S  # type: ignore[union-attr]


def test_ease_releases_what_grant_opened_once_risk_stays_low() -> None:
    books = Books(config())
    grant_d = decision(books, risk("web-1/db", T0, 0.8, upper=1.08))
    Grant(books)(grant_d)
    low = decision(books, risk("web-1/db", T0 + 400 * S, 0.1, upper=0.3))
    low.comp.low_since_ms = T0 + 60 * S  # low for 340 s > release_hold_s (300)
    [cmd] = Ease(books)(low)
    assert cmd["action"] == "RELEASE" and books.pool.get("web-1/db", "CPU_WEIGHT") is None
    # and the scale-down policy, on the same books, sees the component as just released
    assert ScaleDown(books)(low) == []
