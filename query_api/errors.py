"""Errors of the query API and the one place that turns them into HTTP responses.

Every error body is `{"detail": ..., "code": ...}`; `detail` names the value
and the fix.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class QueryError(Exception):
    """Base of the errors a route may raise; `status` and `code` go into the response."""

    status = 400
    code = "invalid_request"

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class NotAuthenticatedError(QueryError):
    status = 401
    code = "not_authenticated"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class TaskNotFoundError(QueryError):
    status = 404
    code = "task_not_found"

    def __init__(self, task_id: object) -> None:
        super().__init__(f"task {task_id} not found: check the id, and that you are signed in as its owner")


class ResultNotReadyError(QueryError):
    status = 409
    code = "result_not_ready"


class ResultUnavailableError(QueryError):
    status = 503
    code = "result_unavailable"


class InvalidCursorError(QueryError):
    code = "invalid_cursor"


class InvalidConsistencyTokenError(QueryError):
    code = "invalid_consistency_token"


def install_error_handlers(app: FastAPI) -> None:
    """Register the translation of every error type to its HTTP response."""

    @app.exception_handler(QueryError)
    async def query_error(request: Request, error: QueryError) -> JSONResponse:
        if error.status >= 500:
            log.error("%s: %s", error.code, error.detail, extra={"request_id": _request_id(request)})
        return JSONResponse({"detail": error.detail, "code": error.code}, status_code=error.status,
                            headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
                             for item in error.errors())
        body = {"detail": f"invalid request: {problems}", "code": "invalid_request"}
        fields = [item["loc"][-1] for item in error.errors() if item.get("loc")]
        if fields:
            body["field"] = str(fields[0])
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse({"detail": str(error.detail), "code": code}, status_code=error.status_code,
                            headers=getattr(error, "headers", None))


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)
