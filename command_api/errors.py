"""Domain errors of the command API and the one registry that turns every error into HTTP.

Every error body is `{"detail": ..., "code": ...}`; `detail` names the value and the fix.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from solver_worker.solver import InputError, ProblemTooLargeError

log = logging.getLogger(__name__)


class CommandError(Exception):
    """Base class of errors a client can act on; `status` and `code` go into the response."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, extra: dict | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra or {}


class EmailTakenError(CommandError):
    status, code = 409, "email_taken"


class WeakPasswordError(CommandError):
    status, code = 422, "weak_password"


class InvalidCredentialsError(CommandError):
    status, code = 401, "invalid_credentials"


class LoginThrottledError(CommandError):
    status, code = 429, "too_many_failed_logins"


class NotAuthenticatedError(CommandError):
    status, code = 401, "not_authenticated"


class TaskNotFoundError(CommandError):
    status, code = 404, "task_not_found"


class InvalidTaskError(CommandError):
    status, code = 422, "invalid_task"


class IdempotencyConflictError(CommandError):
    status, code = 422, "idempotency_key_reused"


class IdempotencyInFlightError(CommandError):
    status, code = 409, "idempotency_key_in_flight"


class PayloadTooLargeError(CommandError):
    status, code = 413, "payload_too_large"


class BrokerUnavailableError(CommandError):
    status, code = 503, "broker_unavailable"


def _body(detail: str, code: str, **extra) -> dict:
    return {"detail": detail, "code": code, **extra}


async def _command_error(request: Request, error: CommandError) -> JSONResponse:
    level = logging.WARNING if error.status >= 500 else logging.INFO
    log.log(level, "%s %s -> %d %s: %s", request.method, request.url.path, error.status, error.code, error.detail,
            extra={"request_id": getattr(request.state, "request_id", None)})
    return JSONResponse(_body(error.detail, error.code, **error.extra), status_code=error.status,
                        headers=error.headers)


async def _input_error(request: Request, error: InputError) -> JSONResponse:
    status, code = (413, "problem_too_large") if isinstance(error, ProblemTooLargeError) else (422, "invalid_input")
    location = error.to_dict()
    log.info("%s %s -> %d %s: %s", request.method, request.url.path, status, code, error.message,
             extra={"request_id": getattr(request.state, "request_id", None)})
    return JSONResponse(_body(error.message, code, field=location["field"], line=location["line"],
                              value=location["value"]), status_code=status)


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body") or "body"
        # pydantic prefixes a validator's own message with "Value error, ", which adds nothing for the client.
        problems.append(f"{where}: {str(item.get('msg')).removeprefix('Value error, ')}")
    detail = "invalid request: " + "; ".join(problems) + "; see /command/docs for the expected body"
    return JSONResponse(_body(detail, "invalid_request", errors=_jsonable(error.errors())), status_code=422)


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}.get(error.status_code, "http_error")
    return JSONResponse(_body(str(error.detail), code), status_code=error.status_code,
                        headers=getattr(error, "headers", None))


def _jsonable(errors: list[dict]) -> list[dict]:
    return [{"loc": list(item.get("loc", ())), "msg": item.get("msg"), "type": item.get("type")} for item in errors]


def install_error_handlers(app: FastAPI) -> None:
    """Register the translation of every domain and framework error to an HTTP response."""
    app.add_exception_handler(CommandError, _command_error)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
