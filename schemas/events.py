"""Event contracts: one envelope, a typed payload per event type, JSON encoding.

Every record on `task-events` and `task-progress` is an `Envelope` encoded as
UTF-8 JSON, keyed by `task_id`, with the event type repeated in the Kafka
header `event_type` so consumers can skip records without decoding them.
Models are frozen; a change to a payload raises `schema_version` and adds an
upcaster in `UPCASTERS`, because the log is never rewritten.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.problem import GeneratorSpec

EVENT_TYPE_HEADER = "event_type"
SCHEMA_VERSION_HEADER = "schema_version"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BlobRef(Frozen):
    """A content-addressed file in the blob store."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0, description="Bytes.")
    format: Literal["mtx", "csv", "npy", "json"]


class InlineMatrix(Frozen):
    """A small matrix or vector carried in the event itself."""

    format: Literal["dense", "coo"] = "dense"
    shape: tuple[int, int] | tuple[int]
    values: list = Field(description="dense: nested rows (or a flat vector); coo: list of values.")
    rows: list[int] | None = Field(None, description="coo only: row index of each value.")
    cols: list[int] | None = Field(None, description="coo only: column index of each value.")


class ProblemInput(Frozen):
    """Location of A and b for the worker: inline, in the blob store, or generated."""

    kind: Literal["inline", "blob", "generated"]
    a: InlineMatrix | BlobRef | None = None
    b: InlineMatrix | BlobRef | None = None
    generator: GeneratorSpec | None = None


class SolveOptions(Frozen):
    tol: float = Field(1e-10, gt=0, lt=1)
    max_iter: int | None = Field(None, ge=1)
    preconditioner: Literal["jacobi", "ilu"] | None = None


class Producer(Frozen):
    service: str
    instance: str


class Payload(Frozen):
    event_type: ClassVar[str]
    topic_kind: ClassVar[Literal["events", "progress"]] = "events"


class TaskSubmitted(Payload):
    event_type: ClassVar[str] = "TaskSubmitted"
    method: str = Field(description="Requested method: auto, lu, cholesky, lstsq, splu, cg, gmres, bicgstab.")
    input: ProblemInput
    options: SolveOptions = SolveOptions()
    rows: int = Field(ge=1)
    cols: int = Field(ge=1)
    nnz: int | None = Field(None, ge=0)
    is_sparse: bool = False


class TaskCancellationRequested(Payload):
    event_type: ClassVar[str] = "TaskCancellationRequested"
    reason: str = "requested by the owner"


class TaskStarted(Payload):
    event_type: ClassVar[str] = "TaskStarted"
    worker: str
    lease_expires_at: datetime


class TaskProgressed(Payload):
    event_type: ClassVar[str] = "TaskProgressed"
    topic_kind: ClassVar[Literal["events", "progress"]] = "progress"
    fraction: float = Field(ge=0, le=1)
    flops_done: float | None = None
    flops_total: float | None = None
    elapsed_s: float = Field(ge=0)
    eta_s: float | None = None
    rate_flops_per_s: float | None = None
    iteration: int | None = None
    residual: float | None = None
    phase: str | None = None


class WorkerHeartbeat(Payload):
    event_type: ClassVar[str] = "WorkerHeartbeat"
    topic_kind: ClassVar[Literal["events", "progress"]] = "progress"
    worker: str
    lease_expires_at: datetime


class SolutionSummary(Frozen):
    """Accuracy, cost and timing figures of a finished solve; `elapsed_s` is the solver's own time."""

    method: str
    method_reason: str | None = None
    relative_residual: float | None = None
    residual_norm: float | None = None
    condition_estimate: float | None = None
    rank: int | None = None
    iterations: int | None = None
    residual_history: list[float] | None = None
    warnings: list[str] = []
    flops: float | None = None
    elapsed_s: float | None = None
    gflops: float | None = None
    peak_memory_bytes: int | None = None
    complexity: dict[str, Any] | None = None
    timings: dict[str, float] | None = Field(
        None, description="Seconds per phase: load (read or generate the input), solve, store, total.")


class TaskCompleted(Payload):
    event_type: ClassVar[str] = "TaskCompleted"
    summary: SolutionSummary
    solution: InlineMatrix | BlobRef
    worker: str | None = None


class TaskFailed(Payload):
    event_type: ClassVar[str] = "TaskFailed"
    code: str = Field(description="Machine-readable reason, e.g. singular_matrix, invalid_input, worker_error.")
    message: str = Field(description="What went wrong and what the user can do, in words.")
    details: dict[str, Any] | None = Field(None, description="Values behind the message, e.g. pivot, rcond, line.")


class TaskCancelled(Payload):
    event_type: ClassVar[str] = "TaskCancelled"
    reason: str
    while_running: bool
    elapsed_s: float | None = Field(None, ge=0, description="Solve time spent before the cancel took effect.")


class TaskRequeued(Payload):
    """The task goes back to the queue; the envelope's `attempt` is the new attempt number."""

    event_type: ClassVar[str] = "TaskRequeued"
    previous_attempt: int
    reason: str


PAYLOAD_TYPES: dict[str, type[Payload]] = {
    cls.event_type: cls
    for cls in (TaskSubmitted, TaskCancellationRequested, TaskStarted, TaskProgressed, WorkerHeartbeat,
                TaskCompleted, TaskFailed, TaskCancelled, TaskRequeued)
}

CURRENT_SCHEMA_VERSION = 1

# (event_type, from_version) -> function that rewrites the raw payload dict to from_version + 1.
UPCASTERS: dict[tuple[str, int], Callable[[dict], dict]] = {}


class Envelope(Frozen):
    """One event as it travels on a topic."""

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    event_type: str
    schema_version: int = CURRENT_SCHEMA_VERSION
    task_id: uuid.UUID
    user_id: uuid.UUID | None
    attempt: int = Field(1, ge=1)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: Producer
    correlation_id: str | None = None
    payload: Annotated[dict[str, Any], Field(description="The event type's payload model, as JSON.")]

    def typed_payload(self) -> Payload:
        """Return the payload as its model; raises UnknownEventError for an unknown type."""
        model = PAYLOAD_TYPES.get(self.event_type)
        if model is None:
            raise UnknownEventError(f"unknown event type {self.event_type!r}")
        return model.model_validate(self.payload)


class UnknownEventError(ValueError):
    """Raised for an event type this code does not know."""


def topic_for(event_type: str, settings) -> str:
    """Return the topic an event type travels on, with names from `settings` (a ServiceSettings)."""
    model = PAYLOAD_TYPES.get(event_type)
    if model is None:
        raise UnknownEventError(f"unknown event type {event_type!r}")
    return settings.topic_task_progress if model.topic_kind == "progress" else settings.topic_task_events


def format_consistency_token(topic: str, partition: int, offset: int) -> str:
    """Return the opaque token `topic:partition:offset` that a client passes back as X-Consistency-Token."""
    return f"{topic}:{partition}:{offset}"


def parse_consistency_token(token: str) -> tuple[str, int, int]:
    """Return (topic, partition, offset) of a token; raise ValueError for a malformed one."""
    topic, _, rest = token.rpartition(":")
    topic, _, partition = topic.rpartition(":")
    if not topic or not partition.isdigit() or not rest.isdigit():
        raise ValueError(f"consistency token {token!r} is not of the form topic:partition:offset")
    return topic, int(partition), int(rest)


def make_event(payload: Payload, *, task_id: uuid.UUID, user_id: uuid.UUID | None, attempt: int,
               producer: Producer, correlation_id: str | None = None) -> Envelope:
    return Envelope(
        event_type=payload.event_type, task_id=task_id, user_id=user_id, attempt=attempt, producer=producer,
        correlation_id=correlation_id, payload=payload.model_dump(mode="json"),
    )


def encode(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Return (key, value, headers) of the Kafka record for `envelope`."""
    return (
        str(envelope.task_id).encode(),
        envelope.model_dump_json().encode(),
        [(EVENT_TYPE_HEADER, envelope.event_type.encode()),
         (SCHEMA_VERSION_HEADER, str(envelope.schema_version).encode())],
    )


def decode(value: bytes) -> Envelope:
    """Decode a record value and upcast its payload to the current schema version.

    Raises pydantic.ValidationError or ValueError for a record that is not a valid event.
    """
    raw = Envelope.model_validate_json(value)
    if raw.schema_version > CURRENT_SCHEMA_VERSION:
        raise ValueError(
            f"event {raw.event_id} has schema_version {raw.schema_version}, newer than this code's "
            f"{CURRENT_SCHEMA_VERSION}; deploy the newer consumer"
        )
    payload, version = dict(raw.payload), raw.schema_version
    while version < CURRENT_SCHEMA_VERSION:
        upcast = UPCASTERS.get((raw.event_type, version))
        if upcast is not None:
            payload = upcast(payload)
        version += 1
    if version != raw.schema_version:
        return raw.model_copy(update={"payload": payload, "schema_version": version})
    return raw


def decode_typed(value: bytes) -> tuple[Envelope, Payload]:
    """Decode and upcast a record value, then validate its payload against the event type's model.

    Raises pydantic.ValidationError, UnknownEventError or ValueError for a record that is not a valid event.
    """
    envelope = decode(value)
    return envelope, envelope.typed_payload()
