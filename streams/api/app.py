"""``forewarn api``: the HTTP API and the live dashboard over the read model (FastAPI).

Reads come from the :class:`~streams.api.live.LiveModel` (materialised from the topics); writes
(preferences, operator feedback) go to their topics through a :class:`TopicWriter` and reach
the model when the feed reads them back, so the topic stays the one source of truth.

Responses are rendered with orjson straight from the model's dicts (10,000 components in one
response; see docs/benchmarks.md); the pydantic models in :mod:`streams.api.schemas` document
them in the OpenAPI document (``docs/openapi.json``).
"""


import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol

import orjson
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from schemas.errors import BrokerError, ConfigError
from streams.api import schemas as S
from streams.api.auth import Token, Tokens
from streams.api.gauges import Forward, ReadModelCollector
from streams.api.model import ReadModel
from streams.api.views import paging_first

STATIC = Path(__file__).parent / "static"
VERSION = "1.0.0"
MAX_LIMIT = 100_000
SSE_INTERVAL_S = 0.5
SSE_RISKS = 2_000  # risk events per update at most
SSE_TOP = 500  # components per update at most (pages firing first, then the highest risk)

Selector = Annotated[str, PathParam(min_length=1, max_length=256,
                                    description="a component id or an fnmatch glob")]
ComponentGlob = Annotated[str | None, Query(description="id or fnmatch glob")]
FromMs = Annotated[int | None, Query(alias="from", ge=0, le=2**53)]
ToMs = Annotated[int | None, Query(alias="to", ge=0, le=2**53)]
EventLimit = Annotated[int, Query(ge=1, le=10_000)]


class Writer(Protocol):
    def put_preference(self, record: dict[str, Any]) -> None: ...
    def delete_preference(self, selector: str) -> None: ...
    def feedback(self, record: dict[str, Any]) -> None: ...


class Live(Protocol):
    stats: Any
    error: str | None

    def read(self, fn: Callable[[ReadModel], Any]) -> Any: ...
    def alive(self) -> bool: ...


class JSON(JSONResponse):
    """JSON rendered by orjson (several times faster than the standard library's)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


Creds = Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))]
ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": S.Problem}, 403: {"model": S.Problem}}


@dataclass
class Api:
    """What the routes share: the read model, the topic writer, the tokens, the clock."""

    live: Live
    writer: Writer
    tokens: Tokens
    clock_ms: Callable[[], float]
    thresholds: dict[str, dict[str, Any]]
    closing: threading.Event

    def caller(self, creds: HTTPAuthorizationCredentials | None, need: str,
               query_token: str | None = None) -> Token | None:
        """The token of a request that may do ``need`` ("read", "write"); 401/403 else."""
        if not self.tokens.enabled:
            return None
        secret = creds.credentials if creds is not None else query_token
        token = self.tokens.find(secret) if secret else None
        if token is None:
            raise HTTPException(401, "a bearer token is needed (FOREWARN_API_TOKENS)",
                                headers={"WWW-Authenticate": "Bearer"})
        if need == "write" and token.role != "write":
            raise HTTPException(403, f"token {token.name!r} may only read")
        return token


def create_app(live: Live, writer: Writer, tokens: Tokens | None = None,
               clock_ms: Callable[[], float] = lambda: time.time() * 1000,
               max_series: int = 500,
               thresholds: dict[str, dict[str, Any]] | None = None,
               also_export: Sequence[CollectorRegistry] = (),
               closing: threading.Event | None = None) -> FastAPI:
    """The API over ``live``; ``writer`` puts writes on the topics; ``thresholds``: the health
    rules' (metric -> warn, fail, direction), shown with the metric series; ``also_export``:
    registries of components in the same process, served on /metrics too (``forewarn run``);
    ``closing``: set when the server stops, so that event streams end (else a browser left open
    would hold the shutdown)."""
    api = Api(live, writer, tokens or Tokens(), clock_ms, thresholds or {},
              closing or threading.Event())
    app = FastAPI(
        title="forewarn API", version=VERSION,
        description="Risk, forecasts, leases and outcomes of a fleet, read from forewarn's "
                    "topics; preferences and operator feedback written to them. With "
                    "FOREWARN_API_TOKENS set, /v1 needs a bearer token (writes: role write).",
        default_response_class=JSON,
    )
    registry = CollectorRegistry()
    registry.register(ReadModelCollector(live, max_series=max_series))
    for other in also_export:
        registry.register(Forward(other))

    # reads run on the event loop (they take the model's lock for a few ms at most): a hop to
    # the thread pool and back costs more than that on a busy machine
    async def reader(creds: Creds) -> None:
        api.caller(creds, "read")

    def writer_of(creds: Creds) -> Token | None:
        return api.caller(creds, "write")

    _operations(app, api, registry)
    _reads(app, api, [Depends(reader)])
    _model_views(app, api, [Depends(reader)])
    _writes(app, api, writer_of)
    _events(app, api)
    return app


def _operations(app: FastAPI, api: Api, registry: CollectorRegistry) -> None:
    """/healthz and /metrics: open, for probes and scrapers."""

    @app.get("/healthz", response_model=S.Health, tags=["operations"])
    async def healthz() -> Any:
        def view(m: ReadModel) -> dict[str, Any]:
            return {"components": len(m.components_), "event_time_ms": m.now_ms}

        live = api.live
        following = live.alive()
        return JSON({"status": "ok" if following else "degraded", "following": following,
                     "messages": live.stats.messages, "undecodable": live.stats.undecodable,
                     "auth": api.tokens.enabled, "error": live.error, **live.read(view)})

    @app.get("/metrics", tags=["operations"], response_class=Response,
             responses={200: {"content": {"text/plain": {}}}})
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _reads(app: FastAPI, api: Api, read: list[Any]) -> None:
    """Components, one component's risk history, allocations and outcomes."""
    live = api.live

    @app.get("/v1/components", response_model=list[S.Component], dependencies=read,
             responses=ERRORS, tags=["read"])
    async def components(
        host: str | None = None,
        glob: Annotated[str | None, Query(description="fnmatch glob over component ids")] = None,
        min_risk: Annotated[float | None, Query(ge=0, le=1)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = MAX_LIMIT,
        alarm: Annotated[bool | None, Query(description="true: pages firing; false: known "
                                            "not firing (unknown matches neither)")] = None,
    ) -> Any:
        body = live.read(lambda m: m.components_json(host, glob, min_risk, limit, alarm))
        return Response(body, media_type="application/json")

    @app.get("/v1/components/{component_id:path}/risk", response_model=S.RiskHistory,
             dependencies=read, responses={**ERRORS, 404: {"model": S.Problem}}, tags=["read"])
    async def risk(
        component_id: str,
        from_ms: Annotated[int | None, Query(alias="from", ge=0, le=2**53,
                                             description="event time, ms")] = None,
        to_ms: ToMs = None,
    ) -> Any:
        got = live.read(lambda m: _risk_view(m, component_id, from_ms, to_ms, api.thresholds))
        if got is None:
            raise HTTPException(404, f"no component {component_id!r} in the read model")
        return JSON(got)

    @app.get("/v1/allocations", response_model=list[S.AllocationCommand], dependencies=read,
             responses=ERRORS, tags=["read"])
    async def allocations(
        component: ComponentGlob = None,
        action: Annotated[str | None, Query(pattern="^(GRANT|RELEASE|PREEMPT)$")] = None,
        from_ms: FromMs = None, to_ms: ToMs = None, limit: EventLimit = 100,
    ) -> Any:
        return JSON(live.read(lambda m: m.allocations(
            component=component, from_ms=from_ms, to_ms=to_ms, kind=action,
            kind_field="action", limit=limit)))

    @app.get("/v1/outcomes", response_model=list[S.AllocationOutcome], dependencies=read,
             responses=ERRORS, tags=["read"])
    async def outcomes(
        component: ComponentGlob = None,
        status: Annotated[str | None, Query(
            pattern="^(APPLIED|FAILED|DEFERRED|PREEMPTED|EXPIRED|REVERTED|REJECTED)$")] = None,
        from_ms: FromMs = None, to_ms: ToMs = None, limit: EventLimit = 100,
    ) -> Any:
        return JSON(live.read(lambda m: m.outcomes(
            component=component, from_ms=from_ms, to_ms=to_ms, kind=status,
            kind_field="status", limit=limit)))


def _risk_view(m: ReadModel, component_id: str, from_ms: int | None, to_ms: int | None,
               thresholds: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """One component's risk history with its health, metrics, allocations and outcomes."""
    points = m.risk_history(component_id, from_ms, to_ms)
    if points is None:
        return None
    kw = {"component": component_id, "from_ms": from_ms, "to_ms": to_ms, "limit": 1000}
    view = m.components_[component_id]
    return {"component": component_id, "alarm": view.alarm(),
            "alarm_since_ms": view.alarm_since_ms, "points": points,
            "health": m.health_history(component_id),
            "metrics": m.metric_series(component_id, from_ms, to_ms),
            "thresholds": thresholds,
            "allocations": m.allocations(**kw),
            "outcomes": m.outcomes(**kw)}


def _model_views(app: FastAPI, api: Api, read: list[Any]) -> None:
    """The heatmap and the preferences in force."""
    live = api.live

    @app.get("/v1/heatmap", response_model=S.Heatmap, dependencies=read, responses=ERRORS,
             tags=["read"])
    async def heatmap(
        buckets: Annotated[int, Query(ge=1, le=1440)] = 60,
        bucket_s: Annotated[int, Query(ge=1, le=86_400)] = 60,
        top: Annotated[int, Query(ge=1, le=5_000, description="highest peak risk first")] = 200,
    ) -> Any:
        def view(m: ReadModel) -> dict[str, Any]:
            ids = sorted((c for c in m.components_.values() if c.risk is not None),
                         key=lambda c: (-c.peak, c.id))[:top]
            return m.heatmap(buckets, bucket_s, sorted(c.id for c in ids))

        return JSON(live.read(view))

    @app.get("/v1/preferences", response_model=list[S.Preference], dependencies=read,
             responses=ERRORS, tags=["preferences"])
    async def preferences() -> Any:
        return JSON(live.read(lambda m: [m.preferences[k] for k in sorted(m.preferences)]))

    @app.get("/v1/preferences/{selector:path}", response_model=S.Preference, dependencies=read,
             responses={**ERRORS, 404: {"model": S.Problem}}, tags=["preferences"])
    async def preference(selector: Selector) -> Any:
        got = live.read(lambda m: m.preferences.get(selector))
        if got is None:
            raise HTTPException(404, f"no preference for {selector!r}")
        return JSON(got)


def _writes(app: FastAPI, api: Api, writer_of: Callable[..., Token | None]) -> None:
    """Preferences set and cleared, operator feedback: onto their topics."""
    live, writer = api.live, api.writer

    @app.put("/v1/preferences/{selector:path}", response_model=S.Preference,
             responses={**ERRORS, 400: {"model": S.Problem}, 422: {"model": S.Problem},
                        503: {"model": S.Problem},
                        # a selector holding a line break matches no route (Starlette's path
                        # pattern stops at one): the router answers 404 before we see it
                        404: {"model": S.Problem}},
             tags=["preferences"])
    def put_preference(selector: Selector, change: S.PreferenceChange,
                       _: Annotated[Token | None, Depends(writer_of)]) -> Any:
        from streams.runtime.prefs import make_preference

        _check_key(selector)
        current = live.read(lambda m: m.preferences.get(selector))
        try:
            rec = make_preference(
                selector, int(api.clock_ms()), current, criticality=change.criticality,
                allow=change.allowed_resources, maxima=change.maxima, paused=change.paused)
        except ConfigError as exc:
            raise HTTPException(422, str(exc)) from exc
        _write(lambda: writer.put_preference(rec))
        return JSON(rec)

    @app.delete("/v1/preferences/{selector:path}", status_code=204,
                responses={**ERRORS, 404: {"model": S.Problem}, 503: {"model": S.Problem}},
                tags=["preferences"], response_class=Response)
    def delete_preference(selector: Selector,
                          _: Annotated[Token | None, Depends(writer_of)]) -> Response:
        _check_key(selector)
        if live.read(lambda m: m.preferences.get(selector)) is None:
            raise HTTPException(404, f"no preference for {selector!r}: nothing to clear")
        _write(lambda: writer.delete_preference(selector))
        return Response(status_code=204)

    @app.post("/v1/feedback", response_model=S.FeedbackOut, status_code=202,
              responses={**ERRORS, 400: {"model": S.Problem}, 404: {"model": S.Problem},
                         503: {"model": S.Problem}},
              tags=["feedback"])
    def feedback(body: S.FeedbackIn,
                 token: Annotated[Token | None, Depends(writer_of)]) -> Any:
        _check_key(body.component)
        if not live.read(lambda m: body.component in m.components_):
            raise HTTPException(404, f"no component {body.component!r} in the read model")
        rec = {"component": body.component, "ts": body.ts, "verdict": body.verdict,
               "operator": token.name if token else "anonymous", "note": body.note,
               "received_ms": int(api.clock_ms())}
        _write(lambda: writer.feedback(rec))
        return JSON(rec, status_code=202)


def _events(app: FastAPI, api: Api) -> None:
    """The Server-Sent Events stream and the dashboard's static files."""

    @app.get("/v1/events", tags=["read"], response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}}}, **ERRORS})
    async def events(
        request: Request,
        creds: Creds,
        access_token: Annotated[str | None, Query(
            description="the token, for browsers' EventSource (no headers)")] = None,
        once: Annotated[bool, Query(description="send one update and end")] = False,
    ) -> StreamingResponse:
        """Server-Sent Events: an ``update`` whenever the model changes (at most every
        0.5 s) with the top components, and the risk scores, allocations and outcomes that
        came since the previous update."""
        api.caller(creds, "read", access_token)
        return StreamingResponse(_stream(api, request, once), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise HTTPException(404, "no such file")
        return FileResponse(path)


async def _stream(api: Api, request: Request, once: bool) -> AsyncIterator[bytes]:
    seen = {"version": -1, "risk": 0, "alloc": 0, "out": 0}
    first = True
    while True:
        update = api.live.read(lambda m: _update(m, seen, first))  # noqa: B023 (called at once)
        if update is not None:
            yield b"event: update\ndata: " + orjson.dumps(update) + b"\n\n"
            first = False
        elif once:
            return
        if once or api.closing.is_set() or await request.is_disconnected():
            return
        await asyncio.sleep(SSE_INTERVAL_S)


def _update(m: ReadModel, seen: dict[str, int], first: bool) -> dict[str, Any] | None:
    if m.version == seen["version"] and not first:
        return None
    seen["version"] = m.version
    top = sorted(m.components_.values(), key=paging_first)[:SSE_TOP]
    out = {
        "version": m.version, "now_ms": m.now_ms, "components_total": len(m.components_),
        "paging_total": len(m.paging),
        "components": [m.summary(c) for c in top],
        "risks": [] if first else m.risks_.since(seen["risk"], SSE_RISKS),
        "allocations": m.allocations_.since(seen["alloc"], 200),
        "outcomes": m.outcomes_.since(seen["out"], 200),
        "preferences": [m.preferences[k] for k in sorted(m.preferences)],
    }
    seen.update(risk=m.risks_.total, alloc=m.allocations_.total, out=m.outcomes_.total)
    return out


def _check_key(key: str) -> None:
    try:
        key.encode()
    except UnicodeEncodeError as exc:
        raise HTTPException(422, "not valid UTF-8") from exc


def _write(fn: Callable[[], None]) -> None:
    try:
        fn()
    except BrokerError as exc:
        raise HTTPException(503, str(exc)) from exc
