"""PostgreSQL tables: users and idempotency keys (written by command_api), read models
(written by the projector) and the projector's stored positions.

Alembic migrations in `schemas/migrations` create these; this module is the
SQLAlchemy view of the same schema for queries.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text,
    UniqueConstraint, func, text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("email", String(320), nullable=False, unique=True, comment="Stored lower-cased."),
    Column("password_hash", Text, nullable=False, comment="Argon2id hash."),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("failed_logins", Integer, nullable=False, server_default="0", comment="Failed logins since the last success."),
    Column("locked_until", DateTime(timezone=True), nullable=True, comment="Logins are rejected with 429 until then."),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False, comment="sha256 of the request body."),
    Column("task_id", UUID(as_uuid=True), nullable=False, unique=True,
           comment="One row per submitted task; key is auto:<task_id> when the client sent none."),
    Column("response", JSONB, nullable=True, comment="The 202 body, stored once the broker acknowledged."),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

tasks = Table(
    "tasks", metadata,
    Column("task_id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("status", String(32), nullable=False, index=True,
           comment="queued, running, completed, failed, cancelled."),
    Column("method_requested", String(32), nullable=False),
    Column("method", String(32), nullable=True, comment="The method that ran; auto resolves to one."),
    Column("method_reason", Text, nullable=True),
    Column("input_kind", String(32), nullable=False, comment="inline, blob or generated."),
    Column("input", JSONB, nullable=False, comment="Input references: formats, blob refs, generator spec."),
    Column("rows", Integer, nullable=True),
    Column("cols", Integer, nullable=True),
    Column("nnz", BigInteger, nullable=True),
    Column("is_sparse", Boolean, nullable=True),
    Column("options", JSONB, nullable=True, comment="Solve options: tol, max_iter, preconditioner."),
    Column("phase", String(64), nullable=True, comment="Latest phase a worker reported, e.g. factorize."),
    Column("progress", Float, nullable=False, server_default="0", comment="Fraction 0..1 of the flops done."),
    Column("eta_s", Float, nullable=True),
    Column("flops_done", Float, nullable=True),
    Column("flops_total", Float, nullable=True),
    Column("rate_flops_per_s", Float, nullable=True),
    Column("iteration", Integer, nullable=True),
    Column("residual", Float, nullable=True, comment="Latest relative residual of an iterative solve."),
    Column("submitted_at", DateTime(timezone=True), nullable=False, index=True),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("elapsed_s", Float, nullable=True),
    Column("gflops", Float, nullable=True),
    Column("peak_memory_bytes", BigInteger, nullable=True),
    Column("complexity", JSONB, nullable=True),
    Column("timings", JSONB, nullable=True, comment="Seconds per phase of the solve: load, solve, store, total."),
    Column("relative_residual", Float, nullable=True),
    Column("residual_norm", Float, nullable=True),
    Column("condition_estimate", Float, nullable=True),
    Column("rank", Integer, nullable=True),
    Column("iterations", Integer, nullable=True),
    Column("warnings", JSONB, nullable=True),
    Column("error", JSONB, nullable=True, comment="code and message of a failure."),
    Column("attempt", Integer, nullable=False, server_default="1"),
    Column("worker", String(128), nullable=True),
    Column("lease_expires_at", DateTime(timezone=True), nullable=True),
    Column("cancel_requested", Boolean, nullable=False, server_default="false"),
    Column("last_event_id", UUID(as_uuid=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # History pages: one user's tasks, newest first, with (submitted_at, task_id) as the cursor.
    Index("ix_tasks_user_history", "user_id", text("submitted_at DESC"), text("task_id DESC")),
    # Queue position: only queued tasks, in submission order.
    Index("ix_tasks_queued", "submitted_at", postgresql_where=text("status = 'queued'")),
)

results = Table(
    "results", metadata,
    Column("task_id", UUID(as_uuid=True), ForeignKey("tasks.task_id", ondelete="CASCADE"), primary_key=True),
    Column("attempt", Integer, nullable=False),
    Column("length", Integer, nullable=False),
    Column("solution", JSONB, nullable=True, comment="The solution vector when small enough to travel inline."),
    Column("blob_sha256", String(64), nullable=True, comment="Blob store reference of a large solution."),
    Column("blob_format", String(16), nullable=True),
    Column("residual_history", JSONB, nullable=True),
)

task_events = Table(
    "task_events", metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("task_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("user_id", UUID(as_uuid=True), nullable=True),
    Column("event_type", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("topic", String(255), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("envelope", JSONB, nullable=False, comment="The event exactly as decoded from the log."),
    UniqueConstraint("topic", "partition", "offset", name="task_events_position"),
)

projector_positions = Table(
    "projector_positions", metadata,
    Column("consumer", String(128), primary_key=True),
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False, comment="Offset of the next record to apply."),
)
