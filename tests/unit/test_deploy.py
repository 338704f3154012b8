"""docker-compose.yml and deploy/kubernetes/*.yaml kept truthful where Docker cannot run.

* Kubernetes manifests are validated against the Kubernetes OpenAPI schemas that the
  ``kubernetes-validate`` package ships (offline; a kubeconform-style check), strictly: an
  unknown field fails. Custom resources (KEDA) are checked by hand.
* ``docker compose config`` runs where the client has the compose plugin; otherwise the file
  is parsed and linted here: anchors resolve, each service runs a real ``forewarn`` command,
  the Kafka image is the version the test harness runs (``deploy/kafka/pom.xml``), and its
  settings agree with the harness's.
* Every ``FOREWARN_*`` variable named in compose, the manifests, the harness and the tests is a
  :class:`~streams.settings.Settings` field (or a test-only knob listed here): the deployment
  files, the harness and the code cannot drift apart.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
MANIFESTS = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
SETTINGS = {f.name for f in fields(Settings)}
# FOREWARN_* names that are not settings: where the config file is, and test/bench knobs
NOT_SETTINGS = {"CONFIG", "TEST_BROKER", "FUZZ_N", "FUZZ_OUT", "REGISTRY_HEAP",
                "KAFKA_HEAP", "KAFKA_NODES", "CHROMIUM", "SCREENSHOT"}
VAR = re.compile(r"FOREWARN_([A-Z0-9_]+)(\*?)")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def manifests() -> list[dict]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def forewarn_commands() -> set[str]:
    from streams.cli.commands import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return set(sub.choices)


def test_kubernetes_manifests_pass_the_kubernetes_schemas_strictly() -> None:
    import kubernetes_validate

    assert MANIFESTS
    checked = 0
    for doc in manifests():
        if doc["apiVersion"].startswith("keda.sh/"):
            continue  # a custom resource: checked below
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
        checked += 1
    assert checked >= 4


def test_a_broken_manifest_is_caught() -> None:
    """The check can fail: a misspelt field and a wrong type are both refused."""
    import kubernetes_validate

    deployment = next(d for d in manifests() if d["kind"] == "Deployment")
    bad = yaml.safe_load(yaml.safe_dump(deployment))
    bad["spec"]["replica"] = 2  # misspelt
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, kubernetes_validate.latest_version(), strict=True)
    bad = yaml.safe_load(yaml.safe_dump(deployment))
    bad["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, kubernetes_validate.latest_version(), strict=True)


def test_manifests_run_real_commands_with_real_settings() -> None:
    commands = forewarn_commands()
    config = {}
    for doc in manifests():
        if doc["kind"] == "ConfigMap":
            config.update(doc["data"])
    for doc in manifests():
        spec = doc.get("spec", {}).get("template", {}).get("spec", {})
        for c in spec.get("containers", []):
            assert c["args"][0] in commands, f"{doc['metadata']['name']}: {c['args']}"
            env = {**config, **{e["name"]: e.get("value") for e in c.get("env", [])}}
            if "FOREWARN_METRICS_PORT" in env:
                # the exporter binds to loopback by default: Prometheus could not scrape it
                assert env.get("FOREWARN_METRICS_HOST") == "0.0.0.0", doc["metadata"]["name"]
                port = int(env["FOREWARN_METRICS_PORT"])
                annotations = doc["spec"]["template"]["metadata"].get("annotations", {})
                assert int(annotations.get("prometheus.io/port", port)) == port
    Settings.load(env=config)  # the shared configuration is valid as a whole


def test_the_keda_scaler_watches_the_worker_group_on_the_metrics_topic() -> None:
    config = next(d["data"] for d in manifests() if d["kind"] == "ConfigMap")
    settings = Settings.load(env=config)
    scaled = [d for d in manifests() if d["kind"] == "ScaledObject"]
    deployments = {d["metadata"]["name"] for d in manifests() if d["kind"] == "Deployment"}
    for obj in scaled:
        assert obj["spec"]["scaleTargetRef"]["name"] in deployments
        [trigger] = obj["spec"]["triggers"]
        meta = trigger["metadata"]
        assert trigger["type"] == "kafka"
        assert meta["consumerGroup"] == settings.worker_group
        assert meta["topic"] == settings.topic("metrics")
        assert meta["bootstrapServers"] == settings.bootstrap_servers
        assert obj["spec"]["maxReplicaCount"] <= settings.partitions  # more would sit idle


def test_compose_config_parses() -> None:
    """``docker compose config`` where the plugin exists; the YAML itself everywhere."""
    doc = compose()
    assert {"kafka", "topics", "worker", "actuator"} <= set(doc["services"])
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True
                                 ).returncode == 0:
        res = subprocess.run([docker, "compose", "-f", str(COMPOSE), "config", "-q"],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr


def test_compose_services_run_real_commands_with_real_settings() -> None:
    commands = forewarn_commands()
    services = compose()["services"]
    for name, svc in services.items():
        if name in ("kafka", "prometheus", "grafana"):  # not forewarn's image
            continue
        assert svc["command"][0] in commands, f"{name}: {svc['command']}"
        env = {k: str(v) for k, v in svc["environment"].items()}
        assert all(k.startswith("FOREWARN_") for k in env), name
        Settings.load(env=env)
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
        if "FOREWARN_METRICS_PORT" in env:
            assert env.get("FOREWARN_METRICS_HOST") == "0.0.0.0", name
    assert (ROOT / "deploy" / "Dockerfile").read_text().count('ENTRYPOINT ["forewarn"]') == 1


def test_compose_runs_the_kafka_the_harness_tests() -> None:
    kafka = compose()["services"]["kafka"]
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom).group(1)
    assert kafka["image"] == f"apache/kafka:{version}"
    props = {k[len("KAFKA_"):].lower().replace("_", "."): str(v)
             for k, v in kafka["environment"].items()}
    # what the harness also runs with (tests/kafka_harness.py)
    assert props["process.roles"] == "broker,controller"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["auto.create.topics.enable"] == "false"
    host, port = compose()["services"]["worker"]["environment"][
        "FOREWARN_BOOTSTRAP_SERVERS"].split(":")
    assert f"PLAINTEXT://{host}:{port}" in props["advertised.listeners"]


def test_every_forewarn_variable_anywhere_is_a_setting() -> None:
    files = [COMPOSE, *MANIFESTS, ROOT / "deploy" / "Dockerfile", ROOT / "Makefile",
             *(ROOT / "tests").rglob("*.py"), *(ROOT / "docs").glob("*.md"),
             ROOT / "README.md"]
    unknown: dict[str, set[str]] = {}
    for path in files:
        if path.name == "test_deploy.py" or not path.exists():
            continue
        for name, star in VAR.findall(path.read_text(errors="replace")):
            if "__" in name:  # FOREWARN_ENGINE__FIELD / FOREWARN_PIPELINE__FIELD tables
                continue
            if star:  # FOREWARN_SASL_*: a family of settings
                if any(f.startswith(name.lower()) for f in SETTINGS):
                    continue
            name = name.rstrip("_")
            if name.lower() not in SETTINGS and name not in NOT_SETTINGS:
                unknown.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert not unknown, unknown
