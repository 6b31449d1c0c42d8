"""FastAPI dependencies: the command context and the authenticated user."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from command_api.errors import NotAuthenticatedError
from command_api.tasks import CommandContext
from common.auth import InvalidTokenError, verify_token

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="v1/auth/token", auto_error=False)


def get_context(request: Request) -> CommandContext:
    return request.app.state.context


async def get_current_user_id(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> uuid.UUID:
    if not token:
        raise NotAuthenticatedError("missing bearer token; log in at /command/v1/auth/token and send "
                                    "'Authorization: Bearer <access_token>'", headers={"WWW-Authenticate": "Bearer"})
    try:
        claims = verify_token(request.app.state.settings, token, "access")
    except InvalidTokenError as error:
        raise NotAuthenticatedError(f"{error}; log in again or use /command/v1/auth/refresh",
                                    headers={"WWW-Authenticate": "Bearer"}) from error
    return claims["user_id"]


ContextDep = Annotated[CommandContext, Depends(get_context)]
CurrentUserId = Annotated[uuid.UUID, Depends(get_current_user_id)]


def correlation_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)
