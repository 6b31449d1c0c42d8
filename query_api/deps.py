"""Dependencies of the routes: settings, database connection, the authenticated caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncConnection

from common.auth import InvalidTokenError, verify_token
from query_api.consistency import parse_token, wait_for_position
from query_api.errors import NotAuthenticatedError
from query_api.settings import QueryApiSettings

bearer = HTTPBearer(auto_error=False, description="Access token from the command API's /v1/auth/token.")


def get_settings(request: Request) -> QueryApiSettings:
    return request.app.state.settings


async def get_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """Yield a pooled connection for the duration of one request."""
    async with request.app.state.engine.connect() as connection:
        yield connection


def get_user_id(settings: Annotated[QueryApiSettings, Depends(get_settings)],
                credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> uuid.UUID:
    """Return the caller's user id from the Bearer access token; raise NotAuthenticatedError."""
    if credentials is None:
        raise NotAuthenticatedError("missing Authorization header: send `Authorization: Bearer <access token>`")
    try:
        return verify_token(settings, credentials.credentials, "access")["user_id"]
    except InvalidTokenError as error:
        raise NotAuthenticatedError(f"{error}; sign in again or refresh the access token") from error


async def wait_for_consistency(
        request: Request, settings: Annotated[QueryApiSettings, Depends(get_settings)],
        token: Annotated[str | None, Header(alias="X-Consistency-Token",
                                            description="`consistency_token` from the command API: the read "
                                                        "waits briefly until the projector has applied it.")] = None,
) -> None:
    if not token:
        return
    partition, offset = parse_token(token, settings.topic_task_events)
    await wait_for_position(request.app.state.engine, settings.projector_consumer, settings.topic_task_events,
                            partition, offset, timeout_s=settings.consistency_wait_s,
                            poll_s=settings.consistency_poll_ms / 1000)


SettingsDep = Annotated[QueryApiSettings, Depends(get_settings)]
ConnectionDep = Annotated[AsyncConnection, Depends(get_connection)]
UserIdDep = Annotated[uuid.UUID, Depends(get_user_id)]
ConsistentDep = Depends(wait_for_consistency)
