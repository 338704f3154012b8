"""The ``confluent`` wire format against a real Schema Registry: Apicurio Registry (fetched from
Maven Central by ``deploy/registry/pom.xml``) through its Confluent-compatible API. Register,
evolve under BACKWARD compatibility, refuse an incompatible change, and read old and new
messages with old and new readers.

Skips, saying why, where Java or Maven is missing or Maven Central cannot be reached.
"""

from __future__ import annotations

import copy
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.codec import Codec, Schema, load_schemas
from schemas.errors import DecodeError, UnknownSchemaError
from tests.registry_harness import Registry, unavailable

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.environ.get("FOREWARN_TEST_BROKER", "").strip().lower() == "kafka",
                       reason="not again under make test-kafka: "
                       "it starts its own registry; make test runs it"),
]

TOPIC = "forewarn.metrics"
SUBJECT = f"{TOPIC}-value"


@pytest.fixture
def codecs() -> Iterator[list[Codec]]:
    """Codecs made by a test, closed after it (their registry clients hold connections)."""
    made: list[Codec] = []
    yield made
    for codec in made:
        codec.close()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    why = unavailable()
    if why:
        pytest.skip(why)
    reg = Registry(tmp_path_factory.mktemp("apicurio") / "apicurio.log")
    try:
        reg.start()
    except RuntimeError as exc:
        pytest.skip(f"Apicurio Registry not run: {exc}")
    try:
        yield reg
    finally:
        reg.stop()


def made(codecs: list[Codec], url: str, **kw: object) -> Codec:
    codec = Codec("confluent", registry_url=url, **kw)  # type: ignore[arg-type]
    codecs.append(codec)
    return codec


def _http(method: str, url: str, body: object | None = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def evolved(add: dict) -> dict[str, Schema]:
    """The current schemas with one field appended to MetricSample."""
    schemas = load_schemas()
    raw = copy.deepcopy(schemas["MetricSample"].raw)
    raw["fields"].append(add)
    return {**schemas, "MetricSample": Schema.from_dict(raw)}


SAMPLE = {"component": "web-1", "host": "web-1", "ts": 1_700_000_000_000,
          "metrics": {"cpu.util": 0.5, "mem.used_pct": 61.0}, "tags": {"dc": "eu"}}


def test_register_evolve_and_read_old_and_new(registry: Registry, codecs: list[Codec]) -> None:
    status, _ = _http("PUT", f"{registry.url}/config/{SUBJECT}", {"compatibility": "BACKWARD"})
    assert status == 200

    v1 = made(codecs, registry.url)
    old_msg = v1.encode("MetricSample", SAMPLE, topic=TOPIC)
    assert old_msg[0] == 0
    id1 = int.from_bytes(old_msg[1:5], "big")

    # a fresh reader knows nothing: it fetches the writer schema by id from the registry
    assert made(codecs, registry.url).decode(old_msg, ("MetricSample",)) == (
        "MetricSample", SAMPLE)

    # evolve: a field with a default is BACKWARD compatible, so the registry takes it
    v2_schemas = evolved({"name": "region", "type": "string", "default": "unknown"})
    v2 = made(codecs, registry.url, schemas=v2_schemas)
    new_msg = v2.encode("MetricSample", {**SAMPLE, "region": "eu-west-1"}, topic=TOPIC)
    id2 = int.from_bytes(new_msg[1:5], "big")
    assert id2 != id1
    status, versions = _http("GET", f"{registry.url}/subjects/{SUBJECT}/versions")
    assert status == 200 and versions == [1, 2]

    # the new reader reads the old message with the field's default ...
    kind, rec = made(codecs, registry.url, schemas=v2_schemas).decode(
        old_msg, ("MetricSample",))
    assert kind == "MetricSample" and rec == {**SAMPLE, "region": "unknown"}
    # ... and the old reader reads the new message, without the field it does not know
    kind, rec = made(codecs, registry.url).decode(new_msg, ("MetricSample",))
    assert kind == "MetricSample" and rec == SAMPLE

    # the registry serves both writer schemas by id, as the codec registered them
    for sid, fields in ((id1, 5), (id2, 6)):
        status, got = _http("GET", f"{registry.url}/schemas/ids/{sid}")
        assert status == 200 and len(json.loads(got["schema"])["fields"]) == fields


def test_an_incompatible_change_is_refused_by_the_registry(
    registry: Registry, codecs: list[Codec]
) -> None:
    subject = "forewarn.compat-value"
    status, _ = _http("PUT", f"{registry.url}/config/{subject}", {"compatibility": "BACKWARD"})
    assert status == 200
    made(codecs, registry.url).encode("MetricSample", SAMPLE,
                                                          topic="forewarn.compat")
    # a new required field: a new reader could not read old messages
    bad = evolved({"name": "region", "type": "string"})
    with pytest.raises(Exception, match="(?i)incompatible|409|compatib"):
        made(codecs, registry.url, schemas=bad).encode(
            "MetricSample", {**SAMPLE, "region": "x"}, topic="forewarn.compat")


def test_an_unknown_schema_id_is_one_clear_error(registry: Registry, codecs: list[Codec]) -> None:
    codec = made(codecs, registry.url)
    forged = b"\x00" + (987_654).to_bytes(4, "big") + b"\x02\x00"
    with pytest.raises(UnknownSchemaError, match="schema id 987654"):
        codec.decode(forged, ("MetricSample",))
    good = codec.encode("MetricSample", SAMPLE, topic=TOPIC)
    with pytest.raises(DecodeError, match="corrupt MetricSample"):
        made(codecs, registry.url).decode(good[:8], ("MetricSample",))


def test_the_pom_is_the_projects_own(tmp_path: Path) -> None:
    """The registry comes from the project's files, not from something installed by hand."""
    from tests.registry_harness import POM

    text = POM.read_text()
    assert "<artifactId>apicurio-registry-app</artifactId>" in text
    assert "<classifier>all</classifier>" in text
