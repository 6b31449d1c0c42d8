"""Submit a task (JSON or multipart upload) and cancel one."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Body, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse

from command_api.deps import ContextDep, CurrentUserId, correlation_id
from command_api.idempotency import check_client_key
from command_api.models import (
    TASK_CREATE_EXAMPLES, CancelAccepted, CancelNoop, Method, TaskAccepted, TaskCreate, error_responses,
)
from command_api.problems import (
    ParsedPart, PreparedProblem, check_generator, check_method, check_system, limits_from, parse_json_matrix,
    parse_upload,
)
from command_api.tasks import cancel_task, submit_task
from schemas.events import ProblemInput, SolveOptions
from schemas.problem import GeneratorSpec
from solver_worker.solver import InputError, parse_vector

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description=(
    "Any unique string (a UUID): a retry with the same key and body returns the same task."))]
SUBMIT_RESPONSES = {202: {"model": TaskAccepted}, **error_responses(401, 409, 413, 422, 503)}


@router.post("", status_code=202, response_model=TaskAccepted, responses=SUBMIT_RESPONSES)
async def submit_json(request: Request, context: ContextDep, user_id: CurrentUserId,
                      body: Annotated[TaskCreate, Body(openapi_examples=TASK_CREATE_EXAMPLES)],
                      idempotency_key: IdempotencyKey = None) -> dict:
    """Submit A x = b as JSON; 202 once the broker has the TaskSubmitted event, 503 if it is unreachable."""
    if idempotency_key is not None:
        check_client_key(idempotency_key)
    settings = request.app.state.settings
    request_hash = hashlib.sha256(b"json\n" + await request.body()).hexdigest()

    def prepare() -> PreparedProblem:
        check_method(body.method, body.options)
        limits = limits_from(settings)
        if body.generator is not None:
            if body.a is not None or body.b is not None:
                raise InputError("send either a and b, or a generator, not both", field="generator")
            return _generated(body.generator, limits)
        if body.a is None or body.b is None:
            missing = "a" if body.a is None else "b"
            raise InputError(f"{missing} is missing; send both a and b, or a generator", field=missing)
        a = parse_json_matrix(body.a.model_dump() if hasattr(body.a, "model_dump") else body.a, limits)
        b = ParsedPart(parse_vector(body.b, "json", name="b", limits=limits))
        check_system(a.value, b.value, body.method)
        return context.problems.prepare(a, b)

    return await submit_task(context, user_id, body.method, body.options, prepare, request_hash=request_hash,
                             idempotency_key=idempotency_key, correlation_id=correlation_id(request))


@router.post("/upload", status_code=202, response_model=TaskAccepted, responses=SUBMIT_RESPONSES)
async def submit_upload(
    request: Request, context: ContextDep, user_id: CurrentUserId,
    a: Annotated[UploadFile, File(description="Matrix A: Matrix Market (.mtx), CSV (.csv), NumPy (.npy) or JSON.")],
    b: Annotated[UploadFile, File(description="Right-hand side b in the same formats.")],
    method: Annotated[Method, Form()] = "auto",
    tol: Annotated[float, Form(gt=0, lt=1)] = 1e-10,
    max_iter: Annotated[int | None, Form(ge=1)] = None,
    preconditioner: Annotated[str | None, Form(description="jacobi or ilu; iterative methods only.")] = None,
    a_format: Annotated[str | None, Form(description="mtx, csv, npy or json; default: A's file extension.")] = None,
    b_format: Annotated[str | None, Form(description="mtx, csv, npy or json; default: b's file extension.")] = None,
    idempotency_key: IdempotencyKey = None,
) -> dict:
    """Submit A and b as uploaded files; validated with the solver's parsers, stored in the blob store if large."""
    if idempotency_key is not None:
        check_client_key(idempotency_key)
    settings = request.app.state.settings
    options = _upload_options(tol, max_iter, preconditioner)
    data_a, data_b = await a.read(), await b.read()
    fields = {"method": method, "options": options.model_dump(), "a_format": a_format, "b_format": b_format,
              "a": hashlib.sha256(data_a).hexdigest(), "b": hashlib.sha256(data_b).hexdigest()}
    request_hash = hashlib.sha256(b"upload\n" + json.dumps(fields, sort_keys=True).encode()).hexdigest()

    def prepare() -> PreparedProblem:
        check_method(method, options)
        limits = limits_from(settings)
        part_a = parse_upload(data_a, a.filename, a_format, name="A", vector=False, limits=limits)
        part_b = parse_upload(data_b, b.filename, b_format, name="b", vector=True, limits=limits)
        check_system(part_a.value, part_b.value, method)
        return context.problems.prepare(part_a, part_b)

    return await submit_task(context, user_id, method, options, prepare, request_hash=request_hash,
                             idempotency_key=idempotency_key, correlation_id=correlation_id(request))


@router.post("/{task_id}/cancel", status_code=202, response_model=CancelAccepted,
             responses={200: {"model": CancelNoop, "description": "The task had already finished; nothing changed."},
                        **error_responses(401, 404, 503)})
async def cancel(request: Request, context: ContextDep, user_id: CurrentUserId, task_id: uuid.UUID):
    """Ask to cancel a queued or running task of yours; a finished task is a 200 no-op."""
    status, body = await cancel_task(context, user_id, task_id, correlation_id(request))
    return JSONResponse(body, status_code=status)


def _upload_options(tol: float, max_iter: int | None, preconditioner: str | None) -> SolveOptions:
    if preconditioner in ("", "none"):
        preconditioner = None
    if preconditioner not in (None, "jacobi", "ilu"):
        raise InputError(f"preconditioner {preconditioner!r} is unknown; use jacobi, ilu or leave it empty",
                         field="preconditioner", value=preconditioner)
    return SolveOptions(tol=tol, max_iter=max_iter, preconditioner=preconditioner)


def _generated(spec: GeneratorSpec, limits) -> PreparedProblem:
    check_generator(spec, limits)
    order = spec.order
    sparse = spec.kind == "poisson2d"
    nnz = 5 * order - 4 * spec.n if sparse else None
    return PreparedProblem(ProblemInput(kind="generated", generator=spec), order, order, nnz, sparse)
