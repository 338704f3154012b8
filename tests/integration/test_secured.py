"""A secured Apache Kafka cluster (the harness, one KRaft node): a SASL_SSL listener with
SCRAM-SHA-256/512 users, TLS from a CA made here with openssl, the StandardAuthorizer with no
access without an ACL, and the ACLs of each role (``streams.security.ROLE_ACLS``).

The typed settings reach librdkafka (``streams.topics`` configs) and aiokafka (what Faust
runs on) alike; each role can do what it must and nothing else, and a process without the
right ACL stops with one clear line. Skips, saying why, without java, mvn or openssl.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from schemas.errors import BrokerError
from streams.security import ROLE_ACLS, KafkaSecurity, refused, role_acls
from streams.settings import Settings
from streams.topics import consumer_config, ensure_topics, producer_config

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.environ.get("FOREWARN_TEST_BROKER", "").strip().lower() == "kafka",
                       reason="not again under make test-kafka: "
                       "its secured node is its own, whatever the suite broker; "
                       "make test runs it"),
]

USERS = {  # user -> (mechanism, password)
    "shipper": ("SCRAM-SHA-512", "ship-" + uuid.uuid4().hex[:12]),
    "worker": ("SCRAM-SHA-256", "work-" + uuid.uuid4().hex[:12]),
    "actuator": ("SCRAM-SHA-256", "act-" + uuid.uuid4().hex[:12]),
    "operator": ("SCRAM-SHA-512", "op-" + uuid.uuid4().hex[:12]),
}
STOREPASS = "changeit-" + uuid.uuid4().hex[:8]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(d: Path) -> tuple[Path, Path]:
    """A CA and a broker certificate for 127.0.0.1/localhost; (CA PEM, broker PKCS12)."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=forewarn-test-ca", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out",
            "broker.csr", "-subj", "/CN=localhost", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "broker.pem", "-days", "2", "-extfile", "san.ext", cwd=d)
    openssl("pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker.key", "-out",
            "broker.p12", "-name", "broker", "-passout", f"pass:{STOREPASS}", cwd=d)
    # mutual TLS: the brokers trust the CA (keytool), a client holds a key and certificate
    subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", "ca.pem",
                    "-keystore", "trust.p12", "-storetype", "PKCS12", "-storepass", STOREPASS],
                   cwd=d, check=True, capture_output=True)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out",
            "client.csr", "-subj", "/CN=forewarn-client", cwd=d)
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "client.pem", "-days", "2", cwd=d)
    return d / "ca.pem", d / "broker.p12"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    try:
        from tests.kafka_harness import HarnessUnavailable, KafkaCluster
    except ImportError as exc:  # pragma: no cover - the harness is part of the tree
        pytest.skip(f"Apache Kafka harness missing: {exc}")
    for tool in ("java", "mvn", "openssl"):
        if shutil.which(tool) is None:
            pytest.skip(f"secured-cluster test not run: no `{tool}` on PATH")
    d = tmp_path_factory.mktemp("tls")
    ca, p12 = make_certs(d)
    jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    fmt: list[str] = []
    for name, (mech, pw) in USERS.items():
        fmt += ["--add-scram", f"{mech}=[name={name},password={pw}]"]
    cluster = KafkaCluster(
        nodes=1, heap="384m", extra_listeners={"SECURE": "SASL_SSL", "MTLS": "SSL"},
        format_args=fmt,
        broker_config={
            "sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512",
            "listener.name.secure.scram-sha-256.sasl.jaas.config": jaas,
            "listener.name.secure.scram-sha-512.sasl.jaas.config": jaas,
            "listener.name.secure.ssl.keystore.type": "PKCS12",
            "listener.name.secure.ssl.keystore.location": str(p12),
            "listener.name.secure.ssl.keystore.password": STOREPASS,
            "listener.name.secure.ssl.key.password": STOREPASS,
            "listener.name.mtls.ssl.keystore.type": "PKCS12",
            "listener.name.mtls.ssl.keystore.location": str(p12),
            "listener.name.mtls.ssl.keystore.password": STOREPASS,
            "listener.name.mtls.ssl.key.password": STOREPASS,
            "listener.name.mtls.ssl.truststore.type": "PKCS12",
            "listener.name.mtls.ssl.truststore.location": str(p12.parent / "trust.p12"),
            "listener.name.mtls.ssl.truststore.password": STOREPASS,
            "listener.name.mtls.ssl.client.auth": "required",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            # the PLAINTEXT listener (inter-broker, controller, and this test's admin) is trusted
            "super.users": "User:ANONYMOUS;User:CN=forewarn-client",
        })
    try:
        cluster.start()
    except HarnessUnavailable as exc:
        pytest.skip(f"Apache Kafka not run: {exc}")
    try:
        tag = uuid.uuid4().hex[:6]
        admin_settings = Settings.load(env={}, bootstrap_servers=cluster.bootstrap_servers,
                                       topic_prefix=f"sec{tag}.", worker_group=f"w-{tag}",
                                       actuator_group=f"a-{tag}")
        ensure_topics(admin_settings)
        admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
        for role in ROLE_ACLS:
            for fut in admin.create_acls(role_acls(role, admin_settings, f"User:{role}")
                                         ).values():
                fut.result(15)
        # ACLs reach the authorizer through the metadata log: wait until one is in force
        probe = (cluster, admin_settings, ca)
        deadline = time.monotonic() + 30
        while deliver(as_user(probe, "operator"), "preferences") is not None:
            assert time.monotonic() < deadline, "the ACLs never took effect"
            time.sleep(0.5)
        yield probe
    finally:
        cluster.stop()


def as_user(secured: tuple, user: str, password: str | None = None) -> Settings:
    cluster, base, ca = secured
    mech, pw = USERS[user]
    return base.replace(bootstrap_servers=cluster.bootstrap("SECURE"),
                        security_protocol="SASL_SSL", sasl_mechanism=mech, sasl_username=user,
                        sasl_password=password or pw, ssl_ca_location=str(ca))


def deliver(settings: Settings, topic: str, value: bytes = b"x") -> str | None:
    """Produce one message through librdkafka; the error, or None when acknowledged."""
    errors: list[str] = []
    client: list[str] = []  # authentication failures come through the error callback
    p = Producer(producer_config(settings, {"message.timeout.ms": 10_000,
                                            "error_cb": lambda e: client.append(str(e))}))
    p.produce(settings.topic(topic), value=value, key=b"k",
              on_delivery=lambda err, _m: errors.append(str(err)) if err else None)
    left = p.flush(20)
    if errors and "TIMED_OUT" in errors[0] and client:
        return client[0]
    return errors[0] if errors else ("not delivered" if left else None)


def test_each_role_writes_what_it_must_and_nothing_else(secured) -> None:
    shipper = as_user(secured, "shipper")
    assert deliver(shipper, "metrics") is None  # SCRAM-SHA-512 over TLS, librdkafka
    err = deliver(shipper, "risk")
    line = refused(err, "shipper", "write to", shipper.topic("risk"),
                   KafkaSecurity.from_settings(shipper))
    assert line == (f"shipper: not authorised to write to {shipper.topic('risk')} as "
                    "User:shipper (topic ACL missing; see docs/security.md for the ACLs of "
                    "each role)")
    operator = as_user(secured, "operator")
    assert deliver(operator, "preferences") is None
    assert deliver(operator, "allocations") is not None
    actuator = as_user(secured, "actuator")
    assert deliver(actuator, "allocations") is None and deliver(actuator, "metrics") is not None


def test_a_wrong_password_is_one_line_and_never_shown(secured) -> None:
    bad = as_user(secured, "worker", password="not-the-password")
    err = deliver(bad, "risk")
    line = refused(err, "worker", "write to", bad.topic("risk"), KafkaSecurity.from_settings(bad))
    assert line is not None and "authenticate User:worker" in line
    assert "not-the-password" not in line and "not-the-password" not in repr(bad)


def test_the_worker_role_through_aiokafka_reads_metrics_and_writes_risk(secured) -> None:
    """aiokafka (Faust's client) with the same typed settings: SCRAM-SHA-256 over TLS."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.errors import KafkaError as AioKafkaError

    shipper, worker = as_user(secured, "shipper"), as_user(secured, "worker")
    assert deliver(shipper, "metrics", b"sample-1") is None
    kw = KafkaSecurity.from_settings(worker).aiokafka()

    async def run() -> tuple[list[bytes], str]:
        producer = AIOKafkaProducer(bootstrap_servers=worker.bootstrap_servers, **kw)
        await producer.start()
        try:
            await producer.send_and_wait(worker.topic("risk"), b"a risk", key=b"k")
            try:
                await producer.send_and_wait(worker.topic("allocations"), b"no", key=b"k")
                denied = ""
            except AioKafkaError as exc:
                denied = refused(exc, "worker", "write to", worker.topic("allocations"),
                                 KafkaSecurity.from_settings(worker)) or repr(exc)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            worker.topic("metrics"), bootstrap_servers=worker.bootstrap_servers,
            group_id=f"{worker.worker_group}-probe", auto_offset_reset="earliest", **kw)
        await consumer.start()
        try:
            got = await consumer.getmany(timeout_ms=15_000)
            values = [m.value for batch in got.values() for m in batch]
        finally:
            await consumer.stop()
        return values, denied

    values, denied = asyncio.run(run())
    assert b"sample-1" in values
    assert denied.startswith("worker: not authorised to write to"), denied


def test_an_actuator_without_its_acls_stops_with_one_clear_line(secured) -> None:
    from actuators.backends.dryrun import DryRunBackend
    from streams.runtime.actuator import Actuator

    wrong = as_user(secured, "shipper")  # may only write metrics
    with pytest.raises(BrokerError) as info:
        actuator = Actuator(wrong, DryRunBackend(), persist=False)
        try:
            stop = threading.Event()
            t = threading.Thread(target=actuator.run, args=(stop,), daemon=True)
            t.start()
            t.join(30)
            raise AssertionError("the actuator ran without its ACLs")
        finally:
            actuator.close()
    line = str(info.value)
    assert "\n" not in line and line.startswith("actuator: not authorised to read")
    assert "User:shipper" in line


def test_librdkafka_consumer_of_the_actuator_role(secured) -> None:
    actuator, shipper = as_user(secured, "actuator"), as_user(secured, "shipper")
    assert deliver(as_user(secured, "worker"), "risk", b"r1") is None
    c = Consumer(consumer_config(actuator, actuator.actuator_group))
    try:
        topic = actuator.topic("risk")
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        deadline, seen = time.monotonic() + 20, []
        while time.monotonic() < deadline and b"r1" not in seen:
            seen += [m.value() for m in c.consume(100, 0.5) if not m.error()]
        assert b"r1" in seen
    finally:
        c.close()
    c = Consumer(consumer_config(shipper, "g-not-allowed"))
    try:
        topic = shipper.topic("risk")
        with pytest.raises(KafkaException) as info:
            c.assign([TopicPartition(topic, 0, 0)])
            for _ in range(40):
                for m in c.consume(10, 0.5):
                    if m.error():
                        raise KafkaException(m.error())
        assert refused(info.value, "shipper", "read", topic) is not None
    finally:
        c.close()


def test_the_faust_worker_runs_as_the_worker_role_over_sasl_ssl(secured, tmp_path: Path
                                                                 ) -> None:
    """The whole worker process (Faust on aiokafka, plus its librdkafka sink, checkpoint
    reader and action feed) with nothing but FOREWARN_* settings: SCRAM-SHA-256 over TLS."""
    import os
    import signal
    import sys

    from schemas.codec import Codec

    worker = as_user(secured, "worker")
    shipper, actuator = as_user(secured, "shipper"), as_user(secured, "actuator")
    secret = tmp_path / "worker.password"
    secret.write_text(USERS["worker"][1])
    env = {**os.environ, "FOREWARN_BOOTSTRAP_SERVERS": worker.bootstrap_servers,
           "FOREWARN_TOPIC_PREFIX": worker.topic_prefix,
           "FOREWARN_WORKER_GROUP": worker.worker_group, "FOREWARN_DATA_DIR": str(tmp_path),
           "FOREWARN_SECURITY_PROTOCOL": "SASL_SSL", "FOREWARN_SASL_MECHANISM": "SCRAM-SHA-256",
           "FOREWARN_SASL_USERNAME": "worker", "FOREWARN_SASL_PASSWORD_FILE": str(secret),
           "FOREWARN_SSL_CA_LOCATION": worker.ssl_ca_location}
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker", "--loglevel",
                                 "warning"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        codec, t0 = Codec(), int(time.time() * 1000) // 60_000 * 60_000 - 3_600_000
        p = Producer(producer_config(shipper))
        for i in range(60):  # ten minutes at 10 s
            p.produce(shipper.topic("metrics"), key=b"sec-1", value=codec.encode(
                "MetricSample", {"component": "sec-1", "host": "sec-1", "ts": t0 + i * 10_000,
                                 "metrics": {"cpu.util": 0.5}, "tags": {}}))
        assert p.flush(20) == 0
        c = Consumer(consumer_config(actuator, f"{actuator.actuator_group}-probe"))
        try:
            topic = actuator.topic("risk")
            parts = c.list_topics(topic, timeout=10).topics[topic].partitions
            c.assign([TopicPartition(topic, q, 0) for q in parts])
            deadline, risks = time.monotonic() + 120, []
            while time.monotonic() < deadline and len(risks) < 5:
                assert proc.poll() is None, log_path.read_text()[-2000:]
                risks += [codec.decode(m.value())[1] for m in c.consume(100, 0.5)
                          if not m.error() and m.value()[:2] == b"\xc3\x01"]  # not probes
            assert len(risks) >= 5 and {r["component"] for r in risks} == {"sec-1"}
        finally:
            c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    text = log_path.read_text(errors="replace")
    assert USERS["worker"][1] not in text  # the password is never logged
    assert proc.returncode == 0, text[-2000:]


def test_a_worker_without_its_acls_exits_with_one_clear_line(secured, tmp_path: Path) -> None:
    import os
    import sys

    wrong = as_user(secured, "shipper")  # may only write metrics
    env = {**os.environ, "FOREWARN_BOOTSTRAP_SERVERS": wrong.bootstrap_servers,
           "FOREWARN_TOPIC_PREFIX": wrong.topic_prefix, "FOREWARN_DATA_DIR": str(tmp_path),
           "FOREWARN_WORKER_GROUP": wrong.worker_group,
           "FOREWARN_SECURITY_PROTOCOL": "SASL_SSL", "FOREWARN_SASL_MECHANISM": "SCRAM-SHA-512",
           "FOREWARN_SASL_USERNAME": "shipper", "FOREWARN_SASL_PASSWORD": USERS["shipper"][1],
           "FOREWARN_SSL_CA_LOCATION": wrong.ssl_ca_location}
    res = subprocess.run([sys.executable, "-m", "streams.cli", "worker"], env=env,
                         capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert res.returncode == 2, res.stderr[-2000:]
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("forewarn:")]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert lines[0].startswith("forewarn: worker: not authorised to read ")
    assert "as User:shipper" in lines[0] and USERS["shipper"][1] not in res.stderr


def test_mutual_tls_with_a_client_certificate_for_librdkafka_and_aiokafka(secured) -> None:
    """SSL with the client's certificate and key (``ssl_certificate_location`` /
    ``ssl_key_location``): both clients get in; without the certificate, neither does."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaError as AioKafkaError

    cluster, base, ca = secured
    d = ca.parent
    mtls = base.replace(bootstrap_servers=cluster.bootstrap("MTLS"), security_protocol="SSL",
                        ssl_ca_location=str(ca), ssl_certificate_location=str(d / "client.pem"),
                        ssl_key_location=str(d / "client.key"))
    assert deliver(mtls, "metrics", b"over mtls") is None
    no_cert = base.replace(bootstrap_servers=cluster.bootstrap("MTLS"), security_protocol="SSL",
                           ssl_ca_location=str(ca))
    assert deliver(no_cert, "metrics") is not None

    async def send(settings: Settings) -> str:
        producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers,
                                    request_timeout_ms=8000,
                                    **KafkaSecurity.from_settings(settings).aiokafka())
        try:
            await asyncio.wait_for(producer.start(), 15)
            await producer.send_and_wait(settings.topic("metrics"), b"aio over mtls")
            return ""
        except (AioKafkaError, OSError, TimeoutError) as exc:
            return repr(exc)
        finally:
            await producer.stop()

    assert asyncio.run(send(mtls)) == ""
    assert asyncio.run(send(no_cert)) != ""


def _cli(secured: tuple, user: str, mech_user: str, *args: str, tmp: Path
         ) -> subprocess.CompletedProcess[str]:
    """``forewarn <args>`` as ``user`` (with ``mech_user``'s mechanism and password)."""
    import os
    import sys

    s = as_user(secured, mech_user)
    env = {**os.environ, "FOREWARN_BOOTSTRAP_SERVERS": s.bootstrap_servers,
           "FOREWARN_TOPIC_PREFIX": s.topic_prefix, "FOREWARN_DATA_DIR": str(tmp),
           "FOREWARN_SECURITY_PROTOCOL": "SASL_SSL", "FOREWARN_SASL_MECHANISM": s.sasl_mechanism,
           "FOREWARN_SASL_USERNAME": user, "FOREWARN_SASL_PASSWORD": USERS[mech_user][1],
           "FOREWARN_SSL_CA_LOCATION": s.ssl_ca_location}
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_the_operator_and_shipper_commands_with_and_without_their_acls(secured,
                                                                        tmp_path: Path) -> None:
    ok = _cli(secured, "operator", "operator", "prefs", "set", "web-*", "--criticality", "9",
              tmp=tmp_path)
    assert ok.returncode == 0, ok.stderr[-2000:]
    denied = _cli(secured, "shipper", "shipper", "prefs", "set", "web-*", "--criticality", "1",
                  tmp=tmp_path)
    lines = [ln for ln in denied.stderr.splitlines() if ln.startswith("forewarn:")]
    assert denied.returncode == 2 and len(lines) == 1, denied.stderr[-2000:]
    assert lines[0].startswith("forewarn: operator: not authorised to read ")
    assert "User:shipper" in lines[0]
    ship = _cli(secured, "operator", "operator", "ship", "--duration", "1", tmp=tmp_path)
    lines = [ln for ln in ship.stderr.splitlines() if ln.startswith("forewarn:")]
    assert ship.returncode == 2 and len(lines) == 1, ship.stderr[-2000:]
    assert lines[0].startswith("forewarn: shipper: not authorised to write to ")
