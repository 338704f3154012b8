"""The Kubernetes backend, through the real official client, against a loopback stand-in of
the kube-apiserver endpoints it calls (tests/k8s_api.py); no cluster is involved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from actuators.backends import Backend
from actuators.backends.kubernetes import KubernetesBackend
from schemas.codec import Codec
from schemas.errors import ConfigError
from tests.k8s_api import MERGE, STRATEGIC, StandInApiServer

CODEC = Codec()
NS = "shop"
APP = {"name": "app", "image": "registry.local/web:1",
       "resources": {"requests": {"cpu": "500m", "memory": "256Mi"},
                     "limits": {"cpu": "1", "memory": "512Mi"}}}
SIDECAR = {"name": "proxy", "image": "registry.local/proxy:1",
           "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "200m"}}}


@pytest.fixture
def api() -> Iterator[StandInApiServer]:
    server = StandInApiServer().start()
    try:
        server.add_workload(NS, "web-01", replicas=2)
        for pod in ("web-01-a", "web-01-b"):
            server.add_pod(NS, pod, {"app": "web-01"}, [APP, SIDECAR])
        server.add_pod(NS, "web-01-old", {"app": "web-01"}, [APP, SIDECAR], terminating=True)
        server.add_pod(NS, "other-x", {"app": "other"}, [APP, SIDECAR])
        server.add_workload(NS, "db", kind="statefulsets", replicas=3)
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(api: StandInApiServer) -> Iterator[k8s.ApiClient]:
    api_client = k8s.ApiClient(k8s.Configuration(host=api.url))
    try:
        yield api_client
    finally:
        api_client.close()


@pytest.fixture
def backend(client: k8s.ApiClient) -> KubernetesBackend:
    options = {"api_client": client, "namespace": NS, "container": "app",
               "targets": {"web-02/db": "statefulset/db"}}
    return KubernetesBackend.from_options(options, hosts=("web-*",))


def command(cid: str, resource: str = "REPLICAS", action: str = "GRANT", amount: float = 2.0,
            component: str = "web-01", **kw: Any) -> dict[str, Any]:
    units = {"REPLICAS": "replicas", "CPU_QUOTA": "millicores", "MEMORY_HIGH": "MiB",
             "CPU_WEIGHT": "weight"}
    return {"command_id": cid, "component": component, "host": component.split("/")[0],
            "ts": 1_700_000_000_000, "resource": resource, "action": action, "amount": amount,
            "unit": units[resource], "lease_s": 900, "reason": "test", "risk": 0.8,
            "priority": 580, **kw}


def applied(backend: KubernetesBackend, cmd: dict[str, Any]) -> dict[str, Any]:
    out = backend.apply(cmd)
    assert out["status"] == "APPLIED", out["detail"]
    assert (out["backend"], out["effect"], out["command_id"]) == ("kubernetes", None,
                                                                  cmd["command_id"])
    assert CODEC.decode(CODEC.encode("AllocationOutcome", out))[1] == out
    return out


def app_resources(api: StandInApiServer, pod: str) -> dict[str, Any]:
    return api.resources(NS, pod, "app")


def test_replicas_grant_sets_baseline_plus_amount_replaces_and_release_restores(
    api: StandInApiServer, backend: KubernetesBackend
) -> None:
    assert isinstance(backend, Backend)
    out = applied(backend, command("g1", amount=2.0))
    assert api.replicas(NS, "web-01") == 4
    assert "2 -> 4 replicas" in out["detail"] and "web-01" in out["detail"]
    patch = api.sent("PATCH")[-1]
    assert patch.path == f"/apis/apps/v1/namespaces/{NS}/deployments/web-01/scale"
    assert patch.content_type == MERGE and patch.query["fieldManager"] == ["forewarn"]
    assert patch.body["spec"] == {"replicas": 4}
    assert patch.body["metadata"]["resourceVersion"]  # optimistic concurrency precondition
    applied(backend, command("g2", amount=1.0))  # replaces the first grant, does not add
    assert api.replicas(NS, "web-01") == 3
    out = applied(backend, command("r1", action="RELEASE", amount=0.0))
    assert api.replicas(NS, "web-01") == 2 and "3 -> 2" in out["detail"]
    out = applied(backend, command("r2", action="RELEASE", amount=0.0))
    assert "nothing to restore" in out["detail"] and len(api.sent("PATCH")) == 3


def test_release_of_a_deleted_workload_forgets_it(
    api: StandInApiServer, backend: KubernetesBackend
) -> None:
    applied(backend, command("g1"))
    api.remove_workload(NS, "web-01")
    out = applied(backend, command("r1", action="RELEASE", amount=0.0))
    assert "deployment shop/web-01 is gone" in out["detail"]
    out = applied(backend, command("r2", action="RELEASE", amount=0.0))
    assert "nothing to restore" in out["detail"]


def test_statefulset_target_from_the_map_and_preempt_restores(
    api: StandInApiServer, backend: KubernetesBackend
) -> None:
    applied(backend, command("g1", component="web-02/db", amount=3.0))
    assert api.replicas(NS, "db", "statefulsets") == 6
    assert api.sent("PATCH")[-1].path.endswith(f"/namespaces/{NS}/statefulsets/db/scale")
    api.set_replicas(NS, "db", 7, "statefulsets")  # someone else scaled it meanwhile
    applied(backend, command("p1", component="web-02/db", action="PREEMPT", amount=0.0))
    assert api.replicas(NS, "db", "statefulsets") == 3  # the remembered baseline


def test_cpu_resize_patches_each_live_pod_replaces_and_restores_exactly(
    api: StandInApiServer, backend: KubernetesBackend
) -> None:
    out = applied(backend, command("c1", "CPU_QUOTA", amount=500.0))
    for pod in ("web-01-a", "web-01-b"):
        assert app_resources(api, pod) == {"requests": {"cpu": "1000m", "memory": "256Mi"},
                                           "limits": {"cpu": "1500m", "memory": "512Mi"}}
        assert api.resources(NS, pod, "proxy") == SIDECAR["resources"]
    assert app_resources(api, "web-01-old") == APP["resources"]  # terminating: left alone
    assert app_resources(api, "other-x") == APP["resources"]  # not matched by the selector
    assert "2 pod(s)" in out["detail"] and "request 500m -> 1000m" in out["detail"]
    lists = api.sent("GET", f"/api/v1/namespaces/{NS}/pods")
    assert lists[-1].query["labelSelector"] == ["app=web-01"]
    patches = api.sent("PATCH", "/resize")
    assert [p.path for p in patches] == [f"/api/v1/namespaces/{NS}/pods/web-01-{x}/resize"
                                         for x in "ab"]
    assert patches[0].content_type == STRATEGIC
    assert patches[0].body == {"spec": {"containers": [{"name": "app", "resources": {
        "requests": {"cpu": "1000m"}, "limits": {"cpu": "1500m"}}}]}}
    applied(backend, command("c2", "CPU_QUOTA", amount=250.0))  # replaces: original + 250
    assert app_resources(api, "web-01-a")["requests"]["cpu"] == "750m"
    assert app_resources(api, "web-01-a")["limits"]["cpu"] == "1250m"
    applied(backend, command("c3", "CPU_QUOTA", action="RELEASE", amount=0.0))
    for pod in ("web-01-a", "web-01-b"):
        assert app_resources(api, pod) == APP["resources"]  # the original strings, exactly


def test_memory_resize_and_preempt(api: StandInApiServer, backend: KubernetesBackend) -> None:
    applied(backend, command("m1", "MEMORY_HIGH", amount=256.0))
    assert app_resources(api, "web-01-b")["requests"]["memory"] == "512Mi"
    assert app_resources(api, "web-01-b")["limits"]["memory"] == "768Mi"
    assert app_resources(api, "web-01-b")["limits"]["cpu"] == "1"  # cpu untouched
    applied(backend, command("m2", "MEMORY_HIGH", action="PREEMPT", amount=0.0))
    assert app_resources(api, "web-01-b") == APP["resources"]


def test_a_repeated_command_acts_once(api: StandInApiServer, backend: KubernetesBackend) -> None:
    first = applied(backend, command("g1", amount=1.0))
    assert backend.apply(command("g1", amount=1.0)) == first
    assert len(api.sent("PATCH")) == 1 and api.replicas(NS, "web-01") == 3
    applied(backend, command("c1", "CPU_QUOTA", amount=100.0))
    applied(backend, command("c1", "CPU_QUOTA", amount=100.0))
    assert len(api.sent("PATCH", "/resize")) == 2  # one per pod, once


def test_not_owned_is_rejected_without_a_request(
    api: StandInApiServer, backend: KubernetesBackend
) -> None:
    out = backend.apply(command("g1", component="db-1", host="db-1"))
    assert out["status"] == "REJECTED" and "db-1" in out["detail"]
    assert api.requests == []


def test_missing_workload_fails_with_the_api_reason_and_is_retried(
    api: StandInApiServer, backend: KubernetesBackend
) -> None:
    out = backend.apply(command("g1", component="web-09"))
    assert out["status"] == "FAILED"
    assert out["detail"] == ("REPLICAS of web-09 (GRANT): read scale of deployment "
                             'shop/web-09: API 404 Not Found: deployments.apps "web-09" not found')
    assert api.sent("PATCH") == []
    api.add_workload(NS, "web-09", replicas=1)
    applied(backend, command("g1", component="web-09"))  # FAILED is not cached
    assert api.replicas(NS, "web-09") == 3


@pytest.mark.parametrize(("code", "words"), [(409, "409 Conflict"), (500, "500 Internal")])
def test_api_errors_on_scale_fail_and_leave_no_baseline(
    api: StandInApiServer, backend: KubernetesBackend, code: int, words: str
) -> None:
    api.fail_next(code, "PATCH", "/scale")
    out = backend.apply(command("g1"))
    assert out["status"] == "FAILED" and words in out["detail"]
    assert out["detail"].startswith("REPLICAS of web-01 (GRANT): patch scale of deployment "
                                    "shop/web-01 to 4 replicas: API ")
    assert api.replicas(NS, "web-01") == 2
    api.set_replicas(NS, "web-01", 5)  # the baseline is read again on the next try
    applied(backend, command("g2", amount=1.0))
    assert api.replicas(NS, "web-01") == 6


def test_a_resize_failing_midway_is_restored_by_release(
    api: StandInApiServer, backend: KubernetesBackend
) -> None:
    api.fail_next(500, "PATCH", "/pods/web-01-b/resize")
    out = backend.apply(command("c1", "CPU_QUOTA", amount=500.0))
    assert out["status"] == "FAILED" and "500" in out["detail"]
    assert "pod web-01-b" in out["detail"] and "container app" in out["detail"]
    assert app_resources(api, "web-01-a")["limits"]["cpu"] == "1500m"
    applied(backend, command("r1", "CPU_QUOTA", action="RELEASE", amount=0.0))
    assert app_resources(api, "web-01-a") == APP["resources"]


def test_release_skips_pods_gone_or_recreated(
    api: StandInApiServer, backend: KubernetesBackend
) -> None:
    applied(backend, command("c1", "CPU_QUOTA", amount=500.0))
    api.remove_pod(NS, "web-01-a")
    api.remove_pod(NS, "web-01-b")
    api.add_pod(NS, "web-01-b", {"app": "web-01"}, [APP, SIDECAR])  # same name, new uid
    before = len(api.sent("PATCH"))
    out = applied(backend, command("r1", "CPU_QUOTA", action="RELEASE", amount=0.0))
    assert "0 pod(s) restored" in out["detail"] and "web-01-a, web-01-b" in out["detail"]
    assert len(api.sent("PATCH")) == before


def test_resize_refuses_what_it_cannot_do(
    api: StandInApiServer, client: k8s.ApiClient
) -> None:
    bare = {"name": "app", "image": "x", "resources": {"requests": {"memory": "64Mi"}}}
    api.add_workload(NS, "lean", replicas=1)
    api.add_pod(NS, "lean-a", {"app": "lean"}, [bare])
    api.add_workload(NS, "empty", replicas=0)
    backend = KubernetesBackend.from_options({"api_client": client, "namespace": NS})
    out = backend.apply(command("c1", "CPU_QUOTA", component="lean", amount=100.0))
    assert out["status"] == "FAILED" and "sets no cpu request or limit" in out["detail"]
    out = backend.apply(command("c2", "CPU_QUOTA", component="web-01", amount=100.0))
    assert out["status"] == "FAILED" and "has containers app, proxy" in out["detail"]
    out = backend.apply(command("c3", "CPU_QUOTA", component="empty", amount=100.0))
    assert out["status"] == "FAILED" and "no live pods" in out["detail"]
    assert api.sent("PATCH") == []


@pytest.mark.parametrize(("cmd", "words"), [
    (command("x1", "CPU_WEIGHT"), "supports only REPLICAS, CPU_QUOTA, MEMORY_HIGH"),
    (command("x2", amount=1.5), "amount 1.5 for deployment shop/web-01 is not a whole"),
    (command("x3", unit="cores"), "unit 'cores' is not 'replicas'"),
    (command("x4", component="web-01/Bad_Name"), "maps to no workload"),
])
def test_commands_it_cannot_apply_fail_with_reasons(
    backend: KubernetesBackend, cmd: dict[str, Any], words: str
) -> None:
    out = backend.apply(cmd)
    assert out["status"] == "FAILED" and words in out["detail"], out["detail"]
    assert out["detail"].startswith(f"{cmd['resource']} of {cmd['component']} (GRANT): ")


def test_target_template_maps_services(api: StandInApiServer, client: k8s.ApiClient) -> None:
    backend = KubernetesBackend.from_options(
        {"api_client": client, "namespace": NS, "target": "{namespace}/deployment/{service}"})
    assert str(backend.target_of("node-7/web-01")) == "deployment shop/web-01"
    assert str(backend.target_of("web-01")) == "deployment shop/web-01"
    applied(backend, command("g1", component="node-7/web-01", host="node-7", amount=1.0))
    assert api.replicas(NS, "web-01") == 3


def test_unreachable_api_server_fails(api: StandInApiServer, backend: KubernetesBackend) -> None:
    api.stop()
    out = backend.apply(command("g1"))
    assert out["status"] == "FAILED" and "cannot reach the API server" in out["detail"]


def test_kubeconfig_and_context_build_the_client(
    api: StandInApiServer, tmp_path: Path
) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- {{name: standin, cluster: {{server: "{api.url}"}}}}
- {{name: nowhere, cluster: {{server: "http://127.0.0.1:9"}}}}
users:
- {{name: forewarn, user: {{token: secret}}}}
contexts:
- {{name: standin, context: {{cluster: standin, user: forewarn}}}}
- {{name: nowhere, context: {{cluster: nowhere, user: forewarn}}}}
current-context: nowhere
""")
    backend = KubernetesBackend.from_options(
        {"kubeconfig": str(path), "context": "standin", "namespace": NS})
    try:
        applied(backend, command("g1", amount=1.0))
    finally:
        backend.close()
    assert api.replicas(NS, "web-01") == 3
    with pytest.raises(ConfigError, match="kubeconfig.*elsewhere"):
        KubernetesBackend.from_options({"kubeconfig": str(path), "context": "elsewhere"})
    with pytest.raises(ConfigError, match="kubeconfig"):
        KubernetesBackend.from_options({"kubeconfig": str(tmp_path / "absent")})


@pytest.mark.parametrize(("options", "words"), [
    ({"namespaces": "x"}, "option(s) 'namespaces'; valid: api_client, kubeconfig"),
    ({"namespace": "Shop"}, "namespace: 'Shop' is not a DNS-1123 label"),
    ({"namespace": 3}, "backend_options.namespace: 3 is not a string"),
    ({"target": "{ns}/deployment/{name}"}, "unknown placeholder 'ns'; valid: {namespace}"),
    ({"target": "{namespace}/daemonset/{name}"}, "kind 'daemonset' is not one of"),
    ({"targets": {"web-01": "web"}}, "targets['web-01']: 'web' is not namespace/kind/name"),
    ({"targets": ["web"]}, "backend_options.targets: not a table"),
    ({"in_cluster": "yes"}, "in_cluster: 'yes' is not a boolean"),
    ({"request_timeout_s": 0}, "request_timeout_s: 0 is not a number > 0"),
    ({"request_timeout_s": True}, "request_timeout_s: True is not a number > 0"),
    ({"kubeconfig": "/x", "in_cluster": True}, "kubeconfig and in_cluster exclude each other"),
    ({"in_cluster": True, "context": "a"}, "context: only with a kubeconfig"),
    ({"api_client": "http://x"}, "api_client: str is not an ApiClient"),
])
def test_invalid_options_raise_config_error(
    client: k8s.ApiClient, options: dict[str, Any], words: str
) -> None:
    if "api_client" not in options and not {"kubeconfig", "in_cluster"} & set(options):
        options = {**options, "api_client": client}
    with pytest.raises(ConfigError) as err:
        KubernetesBackend.from_options(options)
    assert words in str(err.value)


def test_in_cluster_without_a_service_account_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="in_cluster: cannot configure"):
        KubernetesBackend.from_options({"in_cluster": True})


def test_the_stand_in_enforces_the_resize_rules(
    api: StandInApiServer, client: k8s.ApiClient
) -> None:
    core = k8s.CoreV1Api(client)
    qos = {"spec": {"containers": [{"name": c, "resources": None} for c in ("app", "proxy")]}}
    with pytest.raises(ApiException) as err:  # Burstable to BestEffort: QoS would change
        core.patch_namespaced_pod_resize("web-01-a", NS, qos, _content_type=STRATEGIC)
    assert err.value.status == 422 and "QoS is immutable" in str(err.value.body)
    image = {"spec": {"containers": [{"name": "app", "image": "other:2"}]}}
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_pod_resize("web-01-a", NS, image, _content_type=STRATEGIC)
    assert err.value.status == 422 and "only cpu and memory" in str(err.value.body)
    apps = k8s.AppsV1Api(client)
    ops = [{"op": "replace", "path": "/spec/replicas", "value": 1}]
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment_scale("web-01", NS, ops)
    assert err.value.status == 415
    stale = apps.read_namespaced_deployment_scale("web-01", NS).metadata.resource_version
    api.set_replicas(NS, "web-01", 5)  # changed between the read and the patch
    body = {"metadata": {"resourceVersion": stale}, "spec": {"replicas": 1}}
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment_scale("web-01", NS, body, _content_type=MERGE)
    assert err.value.status == 409 and "has been modified" in str(err.value.body)
    assert api.replicas(NS, "web-01") == 5
    assert app_resources(api, "web-01-a") == APP["resources"]


def test_a_later_grant_forgets_pods_that_are_gone(
    api: StandInApiServer, backend: KubernetesBackend
) -> None:
    applied(backend, command("c1", "MEMORY_HIGH", amount=64.0))
    api.remove_pod(NS, "web-01-a")
    applied(backend, command("c2", "MEMORY_HIGH", amount=128.0))
    out = applied(backend, command("r1", "MEMORY_HIGH", action="RELEASE", amount=0.0))
    assert "1 pod(s) restored" in out["detail"] and "gone" not in out["detail"]
    assert api.sent("GET", "/pods/web-01-a") == []
    assert app_resources(api, "web-01-b") == APP["resources"]


def test_a_negative_grant_sets_below_the_baseline_within_bounds(
    api: StandInApiServer, backend: KubernetesBackend
) -> None:
    out = applied(backend, command("g1", amount=-1.0))
    assert api.replicas(NS, "web-01") == 1 and "(baseline 2 -1)" in out["detail"]
    out = backend.apply(command("g2", amount=-3.0))
    assert out["status"] == "FAILED" and "would leave -1 replicas" in out["detail"]
    assert api.replicas(NS, "web-01") == 1
    applied(backend, command("c1", "CPU_QUOTA", amount=-250.0))
    assert app_resources(api, "web-01-a")["requests"]["cpu"] == "250m"
    assert app_resources(api, "web-01-a")["limits"]["cpu"] == "750m"
    before = len(api.sent("PATCH", "/resize"))
    out = backend.apply(command("c2", "CPU_QUOTA", amount=-600.0))  # request would be -100m
    assert out["status"] == "FAILED" and "cpu 500m -600 millicores would not be positive" \
        in out["detail"]
    assert len(api.sent("PATCH", "/resize")) == before  # refused before any patch
    applied(backend, command("r1", "CPU_QUOTA", action="RELEASE", amount=-250.0))
    assert app_resources(api, "web-01-a") == APP["resources"]
