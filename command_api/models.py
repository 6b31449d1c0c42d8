"""Request and response bodies of the command API, with the examples its OpenAPI document shows."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.events import SolveOptions
from schemas.problem import GeneratorSpec

EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

Method = Literal["auto", "lu", "cholesky", "lstsq", "splu", "cg", "gmres", "bicgstab"]


class UserCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ada@example.org",
                                                               "password": "correct horse 42"}]})
    email: str = Field(max_length=320, json_schema_extra={"pattern": f"^{EMAIL_PATTERN.pattern}$"},
                       description="An address like name@example.org; compared case-insensitively.")
    password: str = Field(min_length=1, max_length=1024)

    @field_validator("email")
    @classmethod
    def _is_address(cls, value: str) -> str:
        # A validator instead of `pattern=`, whose error shows the regular expression instead of the fix.
        if not EMAIL_PATTERN.fullmatch(value):
            raise ValueError(f"{value!r} is not an e-mail address; use the form name@example.org")
        return value


class UserPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "user_id": "0c9a1e52-3f0b-4f7e-8e0c-6a1d2b3c4d5e", "email": "ada@example.org"}]})
    user_id: uuid.UUID
    email: str


class TokenPair(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOi4uLn0.c2lnbmF0dXJl", "token_type": "bearer",
        "expires_in": 900, "refresh_token": "eyJhbGciOiJIUzI1NiJ9.eyJ0eXAiOiJyZWZyZXNoIn0.c2ln"}]})
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str


class RefreshRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "refresh_token": "eyJhbGciOiJIUzI1NiJ9.eyJ0eXAiOiJyZWZyZXNoIn0.c2ln"}]})
    refresh_token: str


class CooMatrix(BaseModel):
    """A sparse matrix as 0-based coordinate triplets."""

    format: Literal["coo"]
    shape: Any = Field(description="[rows, cols]")
    rows: Any
    cols: Any
    values: Any


class TaskCreate(BaseModel):
    """A linear system A x = b: `a` and `b`, or a `generator` spec, and the method."""

    model_config = ConfigDict(extra="forbid")
    method: Method = "auto"
    a: list[Any] | CooMatrix | None = Field(None, description="Nested rows, or a COO object.")
    b: list[Any] | None = Field(None, description="Right-hand side, one value per row of A.")
    generator: GeneratorSpec | None = None
    options: SolveOptions = SolveOptions()


TASK_CREATE_EXAMPLES = {
    "dense": {"summary": "Dense 2 x 2 system", "value": {"method": "auto", "a": [[4, 1], [1, 3]], "b": [1, 2]}},
    "sparse": {"summary": "Sparse COO with CG", "value": {
        "method": "cg", "a": {"format": "coo", "shape": [3, 3], "rows": [0, 1, 2, 0, 1], "cols": [0, 1, 2, 1, 0],
                              "values": [4, 4, 4, -1, -1]},
        "b": [1, 2, 3], "options": {"tol": 1e-10, "max_iter": 100, "preconditioner": "jacobi"}}},
    "generated": {"summary": "Generated random dense n = 4000",
                  "value": {"method": "lu", "generator": {"kind": "random_dense", "n": 4000, "seed": 7}}},
}


class TaskAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "task_id": "5b0f3c9e-8a4e-4d5b-9a37-2f7f1c3b6d10", "status": "queued",
        "task_url": "/query/v1/tasks/5b0f3c9e-8a4e-4d5b-9a37-2f7f1c3b6d10",
        "consistency_token": "task-events:3:1042"}]})
    task_id: uuid.UUID
    status: Literal["queued"]
    task_url: str = Field(description="Where the query API serves this task.")
    consistency_token: str = Field(description="Pass as X-Consistency-Token to read your own write at once.")


class CancelAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "task_id": "5b0f3c9e-8a4e-4d5b-9a37-2f7f1c3b6d10", "status": "cancellation_requested",
        "consistency_token": "task-events:3:1043"}]})
    task_id: uuid.UUID
    status: Literal["cancellation_requested"]
    consistency_token: str


class CancelNoop(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "task_id": "5b0f3c9e-8a4e-4d5b-9a37-2f7f1c3b6d10", "status": "completed",
        "detail": "task 5b0f3c9e-8a4e-4d5b-9a37-2f7f1c3b6d10 has already finished (completed); there is nothing "
                  "to cancel"}]})
    task_id: uuid.UUID
    status: str
    detail: str


class ErrorBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "detail": "A[0][1] is \"2\", not a number; send numbers without quotes", "code": "invalid_input"}]})
    detail: str
    code: str


def error_responses(*statuses: int) -> dict:
    """OpenAPI `responses` entries for the given error statuses, each with an example body."""
    examples = {
        401: ("not_authenticated", "missing or invalid bearer token; log in at /command/v1/auth/token"),
        404: ("task_not_found", "task 5b0f3c9e-... was not found among your tasks; check the task id"),
        409: ("email_taken", "e-mail 'ada@example.org' is already registered; log in or use another address"),
        413: ("problem_too_large", "A is 30000 x 30000, which needs 7200000000 bytes as a dense float64 array, "
                                   "more than the limit; send it as a sparse Matrix Market file"),
        422: ("invalid_input", "A[1] has 1 entries but row 0 has 2; send rows of equal length"),
        429: ("too_many_failed_logins", "too many failed logins for this account; try again in 30 s"),
        503: ("broker_unavailable", "the event broker did not acknowledge the request, so nothing was recorded; "
                                    "retry later"),
    }
    return {status: {"model": ErrorBody, "content": {"application/json": {"example": {
        "detail": examples[status][1], "code": examples[status][0]}}}} for status in statuses}
