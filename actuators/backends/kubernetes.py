"""The Kubernetes backend: REPLICAS through the scale subresource, CPU_QUOTA and MEMORY_HIGH
through in-place resize of the pods' containers, with the official ``kubernetes`` client.

A component id maps to a Deployment or StatefulSet. A GRANT sets the workload's replicas, or
each live pod's container cpu (memory) request and limit, to what they were before forewarn's
first change plus ``amount``; RELEASE/PREEMPT put the remembered originals back exactly. Scale
patches carry the ``resourceVersion`` just read, so a concurrent change answers 409 instead of
being overwritten. What is remembered lives in this process only. See docs/backends/kubernetes.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from actuators.backends.base import IdempotentBackend, Record, check_options, make_outcome
from actuators.backends.k8s_objects import (
    NAMESPACE,
    RESIZED,
    SUPPORTED,
    UNITS,
    Original,
    Target,
    api_error,
    missing,
    shift,
)
from schemas.errors import BackendError, ConfigError

DEFAULT_TARGET = "{namespace}/deployment/{name}"
PLACEHOLDERS = ("namespace", "component", "name", "host", "service")
OPTION_KEYS = ("api_client", "kubeconfig", "context", "in_cluster", "namespace", "target",
               "targets", "container", "request_timeout_s", "field_manager")
MERGE, STRATEGIC = "application/merge-patch+json", "application/strategic-merge-patch+json"


def _bad(key: str, why: str) -> ConfigError:
    return ConfigError(f"backend_options.{key}: {why}")


class KubernetesBackend(IdempotentBackend):
    """Applies REPLICAS, CPU_QUOTA and MEMORY_HIGH commands to a cluster's workloads."""

    name = "kubernetes"

    def __init__(self, api_client: k8s.ApiClient, *, namespace: str = "default",
                 target: str = DEFAULT_TARGET, targets: Mapping[str, str] | None = None,
                 container: str | None = None, request_timeout_s: float = 10.0,
                 field_manager: str = "forewarn", hosts: tuple[str, ...] = (),
                 components: tuple[str, ...] = (), cache_size: int = 10_000) -> None:
        if not isinstance(api_client, k8s.ApiClient):
            raise _bad("api_client", f"{type(api_client).__name__} is not an ApiClient")
        if not (isinstance(namespace, str) and NAMESPACE.fullmatch(namespace)):
            raise _bad("namespace", f"{namespace!r} is not a DNS-1123 label")
        try:
            Target.parse(str(target).format(**{p: "x" for p in PLACEHOLDERS}), namespace)
        except (KeyError, IndexError, AttributeError) as exc:
            valid = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise _bad("target", f"{target!r} has unknown placeholder {exc}; valid: {valid}"
                       ) from None
        except ValueError as exc:
            raise _bad("target", str(exc)) from None
        self.targets: dict[str, Target] = {}
        for component, text in (targets or {}).items():
            try:
                self.targets[str(component)] = Target.parse(text, namespace)
            except ValueError as exc:
                raise _bad(f"targets[{component!r}]", str(exc)) from None
        if container is not None and not (isinstance(container, str) and container):
            raise _bad("container", f"{container!r} is not a container name")
        timeout = request_timeout_s
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise _bad("request_timeout_s", f"{timeout!r} is not a number > 0")
        if not (isinstance(field_manager, str) and 0 < len(field_manager) <= 128):
            raise _bad("field_manager", f"{field_manager!r} is not 1..128 characters")
        self.api_client, self.namespace, self.target = api_client, namespace, str(target)
        self.container, self.timeout = container, float(request_timeout_s)
        self.field_manager = field_manager
        self.apps, self.core = k8s.AppsV1Api(api_client), k8s.CoreV1Api(api_client)
        super().__init__(hosts=hosts, components=components, cache_size=cache_size)

    def _setup(self) -> None:
        self._replicas: dict[Target, int] = {}  # workload -> replicas before the first grant
        # (workload, resource) -> pod name -> the container's values before forewarn resized
        self._originals: dict[tuple[Target, str], dict[str, Original]] = {}

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, hosts: tuple[str, ...] = (),
                     components: tuple[str, ...] = ()) -> KubernetesBackend:
        """Build from JSON-like options (``[backend_options]``); ConfigError names a bad key.

        The client comes from ``api_client``, or ``in_cluster = true`` (the pod's service
        account), or a kubeconfig (``kubeconfig`` path, else ``$KUBECONFIG`` or
        ``~/.kube/config``) with an optional ``context``.
        """
        check_options("kubernetes", options, OPTION_KEYS)
        opts = dict(options)
        for key in ("kubeconfig", "context", "namespace", "target", "container",
                    "field_manager"):
            if key in opts and not isinstance(opts[key], str):
                raise _bad(key, f"{opts[key]!r} is not a string")
        if not isinstance(opts.get("in_cluster", False), bool):
            raise _bad("in_cluster", f"{opts['in_cluster']!r} is not a boolean")
        if not isinstance(opts.get("targets", {}), Mapping):
            raise _bad("targets", "not a table of component = 'namespace/kind/name'")
        sources = [k for k in ("api_client", "kubeconfig", "in_cluster") if opts.get(k)]
        if len(sources) > 1:
            raise ConfigError(f"backend_options: {' and '.join(sources)} exclude each other")
        if "context" in opts and sources and sources[0] != "kubeconfig":
            raise _bad("context", f"only with a kubeconfig, not with {sources[0]}")
        api_client = opts.pop("api_client", None) or cls._client(opts)
        for key in ("kubeconfig", "context", "in_cluster"):
            opts.pop(key, None)
        return cls(api_client, hosts=tuple(hosts), components=tuple(components), **opts)

    @staticmethod
    def _client(opts: Mapping[str, Any]) -> k8s.ApiClient:
        """An ApiClient from the service account or a kubeconfig; ConfigError if neither."""
        try:
            if opts.get("in_cluster"):
                configuration = k8s.Configuration()
                k8s_config.load_incluster_config(client_configuration=configuration)
                return k8s.ApiClient(configuration)
            return k8s_config.new_client_from_config(
                config_file=opts.get("kubeconfig"), context=opts.get("context"),
                persist_config=False)
        except (ConfigException, OSError, ValueError, TypeError) as exc:
            where = "in_cluster" if opts.get("in_cluster") else "kubeconfig"
            raise _bad(where, f"cannot configure the Kubernetes client: {exc}") from None

    def close(self) -> None:
        """Close the client's connection pool."""
        self.api_client.close()

    # -- commands ---------------------------------------------------------------------------

    def target_of(self, component: str) -> Target:
        """The workload a component id maps to; BackendError when it maps to no valid one."""
        if component in self.targets:
            return self.targets[component]
        host, _, service = component.partition("/")
        text = self.target.format(namespace=self.namespace, component=component,
                                  name=component.replace("/", "-"), host=host,
                                  service=service or host)
        try:
            return Target.parse(text, self.namespace)
        except ValueError as exc:
            raise BackendError(f"component {component!r} maps to no workload: {exc} (set "
                               "backend option targets or target)") from None

    def _execute(self, command: Mapping[str, Any]) -> Record:
        resource, component = command["resource"], command["component"]
        doing = f"{resource} of {component} ({command['action']})"
        try:
            detail = self._act(command)
        except BackendError as exc:  # say which component, resource and action failed
            raise BackendError(f"{doing}: {exc}") from exc
        return make_outcome(command["command_id"], component, command["ts"], "APPLIED",
                            f"{doing}: {detail}", self.name)

    def _act(self, command: Mapping[str, Any]) -> str:
        resource = command["resource"]
        if resource not in SUPPORTED:
            raise BackendError(f"the kubernetes backend supports only {', '.join(SUPPORTED)}")
        if command["unit"] != UNITS[resource]:
            raise BackendError(f"unit {command['unit']!r} is not {UNITS[resource]!r}, the "
                               "unit this backend reads amounts in")
        target = self.target_of(command["component"])
        amount = float(command["amount"])
        if command["action"] != "GRANT":
            return self._restore_replicas(target) if resource == "REPLICAS" else \
                self._restore(target, resource)
        if resource == "REPLICAS":
            return self._grant_replicas(target, amount)
        return self._resize(target, resource, amount)

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, _request_timeout=self.timeout, **kw)
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise api_error(what, exc) from exc

    # -- REPLICAS ---------------------------------------------------------------------------

    def _scale_api(self, target: Target) -> tuple[Callable[..., Any], Callable[..., Any]]:
        suffix = "deployment_scale" if target.kind == "deployment" else "stateful_set_scale"
        return (getattr(self.apps, f"read_namespaced_{suffix}"),
                getattr(self.apps, f"patch_namespaced_{suffix}"))

    def _set_replicas(self, target: Target, extra: int) -> tuple[int, int, int]:
        """Read the Scale, patch it to baseline + ``extra``; (before, after, baseline).

        The baseline is remembered only once a patch has gone through, so a failed first
        grant leaves nothing behind."""
        read, patch = self._scale_api(target)
        scale = self._call(f"read scale of {target}", read, target.name, target.namespace)
        current = int(scale.spec.replicas or 0)
        baseline = self._replicas.get(target, current)
        wanted = baseline + extra
        if wanted < 0:
            raise BackendError(f"{target}: baseline {baseline} {extra:+d} would leave "
                               f"{wanted} replicas")
        body = {"metadata": {"resourceVersion": scale.metadata.resource_version},
                "spec": {"replicas": wanted}}
        self._call(f"patch scale of {target} to {wanted} replicas", patch, target.name,
                   target.namespace, body, field_manager=self.field_manager,
                   _content_type=MERGE)
        self._replicas.setdefault(target, baseline)
        return current, wanted, baseline

    def _grant_replicas(self, target: Target, amount: float) -> str:
        if amount != int(amount):
            raise BackendError(f"amount {amount:g} for {target} is not a whole number")
        current, wanted, baseline = self._set_replicas(target, int(amount))
        return f"{target} scaled {current} -> {wanted} replicas (baseline {baseline} " \
               f"{int(amount):+d})"

    def _restore_replicas(self, target: Target) -> str:
        if target not in self._replicas:
            return f"nothing to restore: no grant of this process on {target}; left as is"
        try:
            current, wanted, _ = self._set_replicas(target, 0)
        except BackendError as exc:
            if not missing(exc):
                raise
            del self._replicas[target]
            return f"{target} is gone; nothing to restore"
        del self._replicas[target]
        return f"{target} scaled {current} -> {wanted} replicas (its baseline)"

    # -- CPU_QUOTA, MEMORY_HIGH: in-place resize of the pods --------------------------------

    def _pods(self, target: Target) -> list[Any]:
        """The workload's live pods, found by the selector its Scale reports."""
        read, _ = self._scale_api(target)
        scale = self._call(f"read scale of {target}", read, target.name, target.namespace)
        selector = scale.status.selector if scale.status is not None else None
        if not selector:
            raise BackendError(f"{target} reports no pod selector in its Scale status")
        listed = self._call(f"list pods of {target} ({selector})", self.core.list_namespaced_pod,
                            target.namespace, label_selector=selector)
        live = [p for p in listed.items if p.metadata.deletion_timestamp is None
                and (p.status is None or p.status.phase not in ("Succeeded", "Failed"))]
        if not live:
            raise BackendError(f"{target}: no live pods match its selector {selector!r}")
        return live

    def _container(self, pod: Any, target: Target) -> Any:
        containers, name = pod.spec.containers, pod.metadata.name
        names = ", ".join(c.name for c in containers)
        if self.container is None:
            if len(containers) != 1:
                raise BackendError(f"pod {name} of {target} has containers {names}: set "
                                   "backend option container")
            return containers[0]
        found = next((c for c in containers if c.name == self.container), None)
        if found is None:
            raise BackendError(f"pod {name} of {target} has no container {self.container!r} "
                               f"(it has {names})")
        return found

    def _patch_pod(self, target: Target, pod: str, original: Original, key: str,
                   request: str | None, limit: str | None) -> None:
        """PATCH pods/{pod}/resize: the container's ``key`` request and limit, where set."""
        resizer = getattr(self.core, "patch_namespaced_pod_resize", None)
        if resizer is None:
            raise BackendError(f"kubernetes client {k8s.__version__} has no pods/resize method: "
                               "in-place resize needs a client generated from the 1.32 API or "
                               "later (kubernetes >= 32) and a cluster >= 1.33")
        resources: dict[str, dict[str, str]] = {}
        if request is not None:
            resources["requests"] = {key: request}
        if limit is not None:
            resources["limits"] = {key: limit}
        body = {"spec": {"containers": [{"name": original.container, "resources": resources}]}}
        self._call(f"resize {key} of container {original.container} of pod {pod} ({target})",
                   resizer, pod, target.namespace, body, field_manager=self.field_manager,
                   _content_type=STRATEGIC)

    def _resize(self, target: Target, resource: str, amount: float) -> str:
        """Plan every pod's new values first (so a refusal patches nothing), then patch."""
        key = RESIZED[resource][0]
        held = self._originals.setdefault((target, resource), {})
        pods = self._pods(target)
        for gone in set(held) - {p.metadata.name for p in pods}:
            del held[gone]  # deleted or terminating: nothing to restore there
        plan = []
        for pod in pods:
            name, uid = pod.metadata.name, pod.metadata.uid
            original = held.get(name)
            if original is None or original.uid != uid:  # new pod, or recreated under its name
                container = self._container(pod, target)
                res = container.resources
                request = (res.requests or {}).get(key) if res is not None else None
                limit = (res.limits or {}).get(key) if res is not None else None
                if request is None and limit is None:
                    raise BackendError(f"container {container.name} of pod {name} ({target}) "
                                       f"sets no {key} request or limit, and a resize cannot "
                                       "change its QoS class")
                original = Original(uid, container.name, request, limit)
            try:
                request = shift(original.request, resource, amount) if original.request else None
                limit = shift(original.limit, resource, amount) if original.limit else None
            except BackendError as exc:
                raise BackendError(f"pod {name} of {target}: {exc}") from None
            plan.append((name, original, request, limit))
        changes = []
        for name, original, request, limit in plan:
            held[name] = original  # before the patch: a partly applied resize is restorable
            self._patch_pod(target, name, original, key, request, limit)
            changes.append(f"{name} " + " ".join(
                f"{field} {old} -> {new}" for field, old, new in
                (("request", original.request, request), ("limit", original.limit, limit))
                if old is not None))
        more = f"; and {len(changes) - 5} more" if len(changes) > 5 else ""
        return (f"{target}: {key} of {len(pods)} pod(s) set to their original "
                f"{amount:+g} {UNITS[resource]}: " + "; ".join(changes[:5]) + more)

    def _restore(self, target: Target, resource: str) -> str:
        held = self._originals.get((target, resource))
        if not held:
            return f"nothing to restore: no resize of this process on {target}; left as is"
        key, restored, skipped = RESIZED[resource][0], [], []
        for name, original in sorted(held.items()):
            pod = self._read_pod(target, name)
            if pod is None or pod.metadata.uid != original.uid:
                skipped.append(name)  # gone, or a new pod with the template's resources
            else:
                self._patch_pod(target, name, original, key, original.request, original.limit)
                restored.append(name)
            del held[name]  # a failed patch raises above and keeps the rest for a retry
        del self._originals[(target, resource)]
        gone = f"; {len(skipped)} gone or recreated ({', '.join(skipped)})" if skipped else ""
        return f"{target}: {key} of {len(restored)} pod(s) restored to their original{gone}"

    def _read_pod(self, target: Target, name: str) -> Any | None:
        """The pod, or None when it no longer exists."""
        try:
            return self._call(f"read pod {name} of {target}", self.core.read_namespaced_pod,
                              name, target.namespace)
        except BackendError as exc:
            if missing(exc):
                return None
            raise
