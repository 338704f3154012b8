"""A loopback stand-in for the few kube-apiserver endpoints the Kubernetes backend calls.

There is no cluster, kube-apiserver binary or Docker on the test machine, so the backend is
tested with the real official client against this HTTP server. It answers, with the Kubernetes
API's JSON shapes and status codes, exactly these endpoints:

- ``GET``/``PATCH /apis/apps/v1/namespaces/{ns}/{deployments|statefulsets}/{name}/scale``
  (``autoscaling/v1`` ``Scale``; the patch honours a ``metadata.resourceVersion``
  precondition with ``409 Conflict``, as the real server does);
- ``GET /api/v1/namespaces/{ns}/pods?labelSelector=...`` (equality and existence selectors);
- ``GET /api/v1/namespaces/{ns}/pods/{name}``;
- ``PATCH /api/v1/namespaces/{ns}/pods/{name}/resize`` (may change only the cpu and memory
  resources of containers, and not the pod's QoS class: ``422 Invalid`` otherwise).

Patches take ``application/merge-patch+json`` (RFC 7386) and
``application/strategic-merge-patch+json`` (lists of containers merged by ``name``); JSON patch
and server-side apply are answered ``415``, since the backend never sends them. Errors are
``Status`` objects. Every request is recorded (method, path, query, content type, body) so
tests can assert what the client sent, and :meth:`StandInApiServer.fail_next` makes the next
matching request answer an error status. It is no full API server: no watch, no auth, no
admission, no kubelet (a resize is accepted into the spec; nothing actuates it).
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubernetes.utils import parse_quantity

JSON = dict[str, Any]
MERGE, STRATEGIC = "application/merge-patch+json", "application/strategic-merge-patch+json"
CREATED = "2026-11-24T00:00:00Z"
GROUPS = {"deployments": "apps", "statefulsets": "apps", "pods": ""}


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    body: Any


class ApiError(Exception):
    """Answered as a ``Status`` object with ``code``."""

    def __init__(self, code: int, reason: str, message: str, details: JSON | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> JSON:
        out: JSON = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                     "message": self.message, "reason": self.reason, "code": self.code}
        if self.details is not None:
            out["details"] = self.details
        return out


def not_found(kind: str, name: str) -> ApiError:
    qualified = f"{kind}.{GROUPS[kind]}" if GROUPS[kind] else kind
    details = {"name": name, "kind": kind, **({"group": GROUPS[kind]} if GROUPS[kind] else {})}
    return ApiError(404, "NotFound", f'{qualified} "{name}" not found', details)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def strategic_merge(target: Any, patch: Any, key: str = "") -> Any:
    """Strategic merge as the Pod type defines it for these fields: lists of containers merge
    by their ``name``; other lists replace; objects merge; ``null`` deletes."""
    if isinstance(patch, list) and key in ("containers", "initContainers"):
        merged = [copy.deepcopy(item) for item in (target or [])]
        for item in patch:
            if not isinstance(item, dict) or "name" not in item:
                raise ApiError(400, "BadRequest", f"{key}: list item without merge key name")
            at = next((i for i, old in enumerate(merged) if old.get("name") == item["name"]), None)
            if at is None:
                merged.append(copy.deepcopy(item))
            else:
                merged[at] = strategic_merge(merged[at], item)
        return merged
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, value in patch.items():
        if value is None:
            out.pop(k, None)
        else:
            out[k] = strategic_merge(out.get(k), value, k)
    return out


def qos_class(spec: JSON) -> str:
    """The pod's QoS class from its containers' resources (Guaranteed, Burstable, BestEffort)."""
    guaranteed, any_set = True, False
    for container in spec.get("containers", []):
        res = container.get("resources") or {}
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        any_set = any_set or bool(limits) or bool(requests)
        for name in ("cpu", "memory"):
            if name not in limits:
                guaranteed = False
            elif name in requests and parse_quantity(requests[name]) != parse_quantity(
                limits[name]
            ):
                guaranteed = False
    if guaranteed and any_set:
        return "Guaranteed"
    return "Burstable" if any_set else "BestEffort"


def matches(labels: dict[str, str], selector: str) -> bool:
    """Whether ``labels`` satisfy an equality/existence label selector (``a=b,c!=d,e,!f``)."""
    for raw in filter(None, (part.strip() for part in selector.split(","))):
        if "!=" in raw:
            k, v = (s.strip() for s in raw.split("!=", 1))
            ok = labels.get(k) != v
        elif "=" in raw:
            k, v = (s.strip() for s in raw.replace("==", "=", 1).split("=", 1))
            ok = labels.get(k) == v
        elif raw.startswith("!"):
            ok = raw[1:].strip() not in labels
        elif " " not in raw:
            ok = raw in labels
        else:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {raw!r}")
        if not ok:
            return False
    return True


class StandInApiServer:
    """The state (workloads, pods), the recorded requests and the HTTP server around them."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._workloads: dict[tuple[str, str, str], JSON] = {}
        self._pods: dict[tuple[str, str], JSON] = {}
        self._faults: list[tuple[str, str, int, str]] = []
        self._version = 1000
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> StandInApiServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            assert self._thread is not None
            self._thread.join()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- state ------------------------------------------------------------------------------

    def _rv(self) -> str:
        self._version += 1
        return str(self._version)

    def _meta(self, namespace: str, name: str, **extra: Any) -> JSON:
        return {"name": name, "namespace": namespace, "uid": str(uuid.uuid4()),
                "resourceVersion": self._rv(), "creationTimestamp": CREATED, **extra}

    def add_workload(self, namespace: str, name: str, *, kind: str = "deployments",
                     replicas: int = 1, labels: dict[str, str] | None = None) -> None:
        """A Deployment or StatefulSet (``kind`` is the plural resource name)."""
        with self._lock:
            self._workloads[(namespace, kind, name)] = {
                "metadata": self._meta(namespace, name),
                "spec": {"replicas": replicas,
                         "selector": {"matchLabels": dict(labels or {"app": name})}},
            }

    def add_pod(self, namespace: str, name: str, labels: dict[str, str],
                containers: list[JSON], *, terminating: bool = False) -> None:
        """A running pod; ``containers`` are Container objects (``name``, ``resources``...)."""
        with self._lock:
            meta = self._meta(namespace, name, labels=dict(labels))
            if terminating:
                meta["deletionTimestamp"] = CREATED
            spec = {"containers": copy.deepcopy(containers), "restartPolicy": "Always"}
            self._pods[(namespace, name)] = {
                "metadata": meta, "spec": spec,
                "status": {"phase": "Running", "qosClass": qos_class(spec)},
            }

    def remove_workload(self, namespace: str, name: str, kind: str = "deployments") -> None:
        with self._lock:
            del self._workloads[(namespace, kind, name)]

    def remove_pod(self, namespace: str, name: str) -> None:
        with self._lock:
            del self._pods[(namespace, name)]

    def replicas(self, namespace: str, name: str, kind: str = "deployments") -> int:
        with self._lock:
            return int(self._workloads[(namespace, kind, name)]["spec"]["replicas"])

    def set_replicas(self, namespace: str, name: str, replicas: int,
                     kind: str = "deployments") -> None:
        """Another actor (an HPA, a person) scales the workload."""
        with self._lock:
            workload = self._workloads[(namespace, kind, name)]
            workload["spec"]["replicas"] = replicas
            workload["metadata"]["resourceVersion"] = self._rv()

    def pod(self, namespace: str, name: str) -> JSON:
        with self._lock:
            return copy.deepcopy(self._pods[(namespace, name)])

    def resources(self, namespace: str, pod: str, container: str) -> JSON:
        """One container's ``resources`` as the pod spec now holds them."""
        spec = self.pod(namespace, pod)["spec"]
        return next(c for c in spec["containers"] if c["name"] == container).get(
            "resources", {})

    def fail_next(self, code: int, method: str, path_contains: str, reason: str = "") -> None:
        """Answer the next ``method`` request whose path contains ``path_contains`` with a
        ``Status`` of ``code`` (500 InternalError, 409 Conflict, ...)."""
        with self._lock:
            self._faults.append((method, path_contains, code, reason))

    def sent(self, method: str, path_contains: str = "") -> list[Request]:
        """The recorded requests of ``method`` whose path contains ``path_contains``."""
        with self._lock:
            return [r for r in self.requests if r.method == method and path_contains in r.path]

    # -- dispatch ---------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, content_type: str, raw: bytes) -> tuple[int, JSON]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        with self._lock:
            self.requests.append(Request(method, parts.path, query, content_type, body))
            try:
                self._inject(method, parts.path)
                return 200, self._route(method, parts.path.strip("/").split("/"), query,
                                        content_type, body)
            except ApiError as exc:
                return exc.code, exc.status()

    def _inject(self, method: str, path: str) -> None:
        for i, (m, contains, code, reason) in enumerate(self._faults):
            if m == method and contains in path:
                del self._faults[i]
                phrase = reason or HTTPStatus(code).phrase.replace(" ", "")
                raise ApiError(code, phrase, f"injected {code} for {method} {path}")

    def _route(self, method: str, seg: list[str], query: dict[str, list[str]],
               content_type: str, body: Any) -> JSON:
        if (len(seg) == 8 and seg[:3] == ["apis", "apps", "v1"] and seg[3] == "namespaces"
                and seg[5] in ("deployments", "statefulsets") and seg[7] == "scale"):
            if method == "GET":
                return self._scale(seg[4], seg[5], seg[6])
            if method == "PATCH":
                return self._patch_scale(seg[4], seg[5], seg[6], content_type, body)
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported here")
        if seg[:3] == ["api", "v1", "namespaces"] and len(seg) >= 5 and seg[4] == "pods":
            ns = seg[3]
            if len(seg) == 5 and method == "GET":
                return self._list_pods(ns, query.get("labelSelector", [""])[0])
            if len(seg) == 6 and method == "GET":
                return {"kind": "Pod", "apiVersion": "v1", **self._get_pod(ns, seg[5])}
            if len(seg) == 7 and seg[6] == "resize" and method == "PATCH":
                return self._resize(ns, seg[5], content_type, body)
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def _workload(self, ns: str, kind: str, name: str) -> JSON:
        workload = self._workloads.get((ns, kind, name))
        if workload is None:
            raise not_found(kind, name)
        return workload

    def _scale(self, ns: str, kind: str, name: str) -> JSON:
        workload = self._workload(ns, kind, name)
        labels = workload["spec"]["selector"]["matchLabels"]
        meta = {k: workload["metadata"][k] for k in
                ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta,
                "spec": {"replicas": workload["spec"]["replicas"]},
                "status": {"replicas": workload["spec"]["replicas"],
                           "selector": ",".join(f"{k}={labels[k]}" for k in sorted(labels))}}

    def _patch_scale(self, ns: str, kind: str, name: str, content_type: str, body: Any) -> JSON:
        current = self._scale(ns, kind, name)
        patched = self._apply_patch(current, content_type, body)
        wanted_rv = patched["metadata"].get("resourceVersion")
        if wanted_rv != current["metadata"]["resourceVersion"]:
            raise ApiError(
                409, "Conflict",
                f'Operation cannot be fulfilled on {kind}.apps "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again",
                {"name": name, "group": "apps", "kind": kind})
        replicas = patched.get("spec", {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise ApiError(422, "Invalid", f'Scale.autoscaling "{name}" is invalid: '
                           f"spec.replicas: Invalid value: {replicas!r}: must be >= 0",
                           {"name": name, "group": "autoscaling", "kind": "Scale"})
        workload = self._workload(ns, kind, name)
        workload["spec"]["replicas"] = replicas
        workload["metadata"]["resourceVersion"] = self._rv()
        return self._scale(ns, kind, name)

    def _apply_patch(self, obj: JSON, content_type: str, body: Any) -> JSON:
        media = content_type.split(";")[0].strip()
        if media not in (MERGE, STRATEGIC):
            raise ApiError(415, "UnsupportedMediaType",
                           f"the body of the request was in an unknown format - accepted "
                           f"media types include: {MERGE}, {STRATEGIC}")
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the patch is not a JSON object")
        patched = merge_patch(obj, body) if media == MERGE else strategic_merge(obj, body)
        assert isinstance(patched, dict)
        return patched

    def _list_pods(self, ns: str, selector: str) -> JSON:
        items = [copy.deepcopy(pod) for (pns, _), pod in sorted(self._pods.items())
                 if pns == ns and matches(pod["metadata"].get("labels", {}), selector)]
        return {"kind": "PodList", "apiVersion": "v1",
                "metadata": {"resourceVersion": str(self._version)}, "items": items}

    def _get_pod(self, ns: str, name: str) -> JSON:
        pod = self._pods.get((ns, name))
        if pod is None:
            raise not_found("pods", name)
        return copy.deepcopy(pod)

    def _resize(self, ns: str, name: str, content_type: str, body: Any) -> JSON:
        pod = self._get_pod(ns, name)
        patched = self._apply_patch(pod, content_type, body)
        invalid = f'Pod "{name}" is invalid: '
        details = {"name": name, "kind": "Pod"}

        def without_resources(spec: JSON) -> JSON:
            spec = copy.deepcopy(spec)
            for c in spec.get("containers", []):
                c.pop("resources", None)
            return spec

        if (without_resources(patched["spec"]) != without_resources(pod["spec"])
                or patched["metadata"] != pod["metadata"]):
            raise ApiError(422, "Invalid", invalid + "spec: Forbidden: only cpu and memory "
                           "resources are mutable", details)
        for c in patched["spec"]["containers"]:
            for group in ("requests", "limits"):
                values = (c.get("resources") or {}).get(group) or {}
                old = next(o for o in pod["spec"]["containers"] if o["name"] == c["name"])
                before = (old.get("resources") or {}).get(group) or {}
                for res in set(values) | set(before):
                    if res not in ("cpu", "memory") and values.get(res) != before.get(res):
                        raise ApiError(422, "Invalid", invalid + "spec: Forbidden: only cpu "
                                       "and memory resources are mutable", details)
                    if res in values and parse_quantity(values[res]) <= Decimal(0):
                        raise ApiError(422, "Invalid", invalid + f"spec.containers[{c['name']}]"
                                       f".resources.{group}[{res}]: must be positive", details)
        if qos_class(patched["spec"]) != pod["status"]["qosClass"]:
            raise ApiError(422, "Invalid", invalid + "spec: Invalid value: Pod QoS is "
                           "immutable", details)
        patched["metadata"]["resourceVersion"] = self._rv()
        self._pods[(ns, name)] = patched
        return {"kind": "Pod", "apiVersion": "v1", **copy.deepcopy(patched)}


def _handler(api: StandInApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            code, payload = api.handle(self.command, self.path,
                                       self.headers.get("Content-Type", ""), raw)
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PATCH = do_PUT = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base's name
            """Quiet: the recorded requests are the log."""

    return Handler

