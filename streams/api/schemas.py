"""Request and response bodies of the HTTP API (pydantic), for validation and the OpenAPI
document. Responses are rendered straight from the read model's dicts (orjson), so these
describe them; the event fields follow ``schemas/avro/`` (the contract)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from actuators.pool import RESOURCES

if TYPE_CHECKING:  # a Literal built at run time is no type to mypy: it sees a str
    Resource = str
else:  # pydantic validates (and the OpenAPI document lists) the names in RESOURCES
    Resource = Literal[tuple(RESOURCES)]


ALARM = ("the page (RiskScore's alarm) at the latest risk score: true firing, false not; null "
         "unknown (written before s29, or alarm_hold_s 0)")
ALARM_SINCE = ("event time (ms) of the first alarm true of the page's current run, as far as the "
               "topic still holds it; null when not firing")


class Breach(BaseModel):
    metric: str
    threshold: float
    eta_s: float = Field(description="seconds from ts until the forecast crosses threshold")
    probability: float


class Forecast(BaseModel):
    metric: str
    horizon_s: int
    mean: float
    lower: float
    upper: float


class ModelInfo(BaseModel):
    version: str
    samples_seen: int
    warm: bool
    source: str = Field(description="component | fleet: which model spoke")


class Lease(BaseModel):
    resource: str
    amount: float
    unit: str
    since_ms: int
    until_ms: int
    command_id: str
    reason: str


class MetricHealth(BaseModel):
    status: Literal["PASS", "WARN", "FAIL"]
    value: float
    threshold: float | None


class Component(BaseModel):
    id: str
    host: str
    ts: int | None = Field(description="event time of the latest risk score (ms)")
    risk: float | None = Field(description="P(FAIL within horizon_s), latest")
    peak_risk: float | None = Field(description="highest risk over the last 15 min (event time)")
    anomaly: float | None
    horizon_s: int | None
    breach: Breach | None
    alarm: bool | None = Field(description=ALARM)
    alarm_since_ms: int | None = Field(description=ALARM_SINCE)
    health: Literal["PASS", "WARN", "FAIL"] = Field(description="worst over its metrics")
    health_metrics: dict[str, MetricHealth]
    leases: list[Lease] = Field(description="leases held at the model's event time")
    model: ModelInfo | None


class RiskPoint(BaseModel):
    component: str
    ts: int
    risk: float
    anomaly: float
    horizon_s: int
    breach: Breach | None
    forecasts: list[Forecast]
    contributors: dict[str, float]
    model: ModelInfo
    alarm: bool | None = Field(None, description="the page at this window (null: unknown)")


class HealthSignal(BaseModel):
    component: str
    ts: int
    status: Literal["PASS", "WARN", "FAIL"]
    metric: str
    value: float
    threshold: float | None
    rule: str
    heartbeat: bool = False


class MetricPoint(BaseModel):
    ts: int
    values: dict[str, float]


class Threshold(BaseModel):
    warn: float | None
    fail: float
    direction: Literal["above", "below"]


class RiskHistory(BaseModel):
    component: str
    alarm: bool | None = Field(description=ALARM)
    alarm_since_ms: int | None = Field(description=ALARM_SINCE)
    points: list[RiskPoint]
    health: list[HealthSignal] = Field(description="latest signal per metric")
    metrics: list[MetricPoint] = Field(description="per-minute values of the metrics that "
                                                   "have a health rule (last per minute)")
    thresholds: dict[str, Threshold] = Field(description="health rule thresholds by metric")
    allocations: list[AllocationCommand]
    outcomes: list[AllocationOutcome]


class AllocationCommand(BaseModel):
    command_id: str
    component: str
    host: str
    ts: int
    resource: str
    action: Literal["GRANT", "RELEASE", "PREEMPT"]
    amount: float
    unit: str
    lease_s: int
    reason: str
    risk: float
    priority: int


class Effect(BaseModel):
    metric: str
    before: float
    after: float | None = None
    breach_avoided: bool | None = None


class AllocationOutcome(BaseModel):
    command_id: str
    component: str
    ts: int
    status: str
    detail: str
    backend: str
    effect: Effect | None = None


class Preference(BaseModel):
    selector: str
    ts: int
    criticality: int
    allowed_resources: list[str] | None
    maxima: dict[str, float]
    paused: bool


class PreferenceChange(BaseModel):
    """Fields to change; those left out keep their current value (or the default)."""

    model_config = ConfigDict(extra="forbid")

    criticality: int | None = Field(None, ge=0, le=10)
    allowed_resources: list[Resource] | None = Field(
        None, description="only these resources; an empty list: all")
    maxima: dict[Resource, float] | None = Field(
        None, description="resource -> largest amount granted (MEMORY_HIGH in MiB, CPU in "
                          "weight or millicores as the backend says)")
    paused: bool | None = None


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    component: str = Field(min_length=1, max_length=256)
    ts: int = Field(ge=0, le=2**53, description="event time (ms) of the risk event judged")
    verdict: Literal["FALSE_POSITIVE", "TRUE_POSITIVE"]
    note: str = Field("", max_length=2000)


class FeedbackOut(BaseModel):
    component: str
    ts: int
    verdict: Literal["FALSE_POSITIVE", "TRUE_POSITIVE"]
    operator: str
    note: str
    received_ms: int


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    following: bool = Field(description="the topic feed is running")
    messages: int = Field(description="messages read since start")
    undecodable: int
    components: int
    event_time_ms: int = Field(description="newest event time seen")
    auth: bool = Field(description="bearer tokens are required")
    error: str | None = None


class HeatRow(BaseModel):
    id: str
    end_ms: int = Field(description="end of the last bucket, in this component's host's time")
    risk: list[float | None] = Field(description="max risk per bucket, oldest first")


class Heatmap(BaseModel):
    bucket_s: int
    rows: list[HeatRow]


class Problem(BaseModel):
    detail: str | list[dict[str, Any]] = Field(
        description="what is wrong: a sentence, or the validation errors field by field")


RiskHistory.model_rebuild()
