"""Typed connection settings for a secured cluster: they reach librdkafka and aiokafka/Faust,
secrets never show in a repr, a log line or an error, and bad combinations are one clear error."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from schemas.errors import ConfigError
from streams.security import KafkaSecurity, Secret, refused

PW = "s3cr3t-Pa55"


def settings(**kw: object) -> SimpleNamespace:
    return SimpleNamespace(**kw)


def test_plaintext_adds_nothing() -> None:
    sec = KafkaSecurity.from_settings(settings(), env={})
    assert sec.librdkafka() == {} and sec.aiokafka() == {} and sec.faust_credentials() is None


def test_sasl_ssl_scram_reaches_librdkafka_and_aiokafka(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not parsed by the settings")
    sec = KafkaSecurity.from_settings(settings(
        security_protocol="sasl_ssl", sasl_mechanism="scram-sha-512", sasl_username="worker",
        ssl_ca_location=str(ca)), env={"FOREWARN_SASL_PASSWORD": PW})
    assert sec.librdkafka() == {
        "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "worker", "sasl.password": PW, "ssl.ca.location": str(ca),
        "ssl.endpoint.identification.algorithm": "https",
    }
    plain = KafkaSecurity.from_settings(settings(
        security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="u",
        sasl_password=PW), env={})
    kw = plain.aiokafka()
    assert kw == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
                  "sasl_plain_username": "u", "sasl_plain_password": PW}
    creds = plain.faust_credentials()
    assert (creds.protocol.value, creds.mechanism.value, creds.username) == (
        "SASL_PLAINTEXT", "PLAIN", "u")


def test_password_from_a_file_and_never_shown(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                              ) -> None:
    f = tmp_path / "pw"
    f.write_text(PW + "\n")
    sec = KafkaSecurity.from_settings(settings(
        security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-256",
        sasl_username="shipper", sasl_password_file=str(f)), env={})
    assert sec.password.reveal() == PW
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("security %s %r %s", sec, sec, sec.describe())
    shown = repr(sec) + str(sec) + sec.describe() + f"{sec.password}" + caplog.text
    assert PW not in shown and "shipper" in sec.describe()
    assert repr(Secret(PW)) == "'***'"


def test_missing_password_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sasl_password file .*nope: No such file"):
        KafkaSecurity.from_settings(settings(
            security_protocol="SASL_SSL", sasl_mechanism="PLAIN", sasl_username="u",
            sasl_password_file=str(tmp_path / "nope")), env={})


@pytest.mark.parametrize(("kw", "message"), [
    ({"security_protocol": "TLS"}, "security_protocol='TLS': use PLAINTEXT"),
    ({"security_protocol": "SASL_SSL", "sasl_mechanism": "GSSAPI", "sasl_username": "u",
      "sasl_password": "p"}, "sasl_mechanism='GSSAPI'"),
    ({"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN"}, "needs sasl_username"),
    ({"sasl_username": "u"}, "security_protocol is PLAINTEXT"),
    ({"ssl_ca_location": "/x"}, "ssl_\\* files set"),
    ({"security_protocol": "SSL", "ssl_ca_location": "/does/not/exist"}, "no such file"),
])
def test_bad_combinations_are_refused(kw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        KafkaSecurity.from_settings(settings(**kw), env={})
    assert "p'" not in str(info.value) and "\n" not in str(info.value)


def test_an_acl_refusal_becomes_one_line() -> None:
    sec = KafkaSecurity("SASL_PLAINTEXT", "PLAIN", "shipper", Secret(PW))
    line = refused(Exception("KafkaError{code=TOPIC_AUTHORIZATION_FAILED,val=29}"), "shipper",
                   "write to", "forewarn.risk", sec)
    assert line == ("shipper: not authorised to write to forewarn.risk as User:shipper "
                    "(topic ACL missing; see docs/security.md for the ACLs of each role)")
    assert refused(Exception("_MSG_TIMED_OUT"), "shipper", "write to", "x", sec) is None
    auth = refused(Exception("SASL_AUTHENTICATION_FAILED"), "worker", "read", "x", sec)
    assert auth is not None and PW not in auth and "User:shipper" in auth
