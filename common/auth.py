"""JWT tokens: issued by the command API, verified by every API.

Three kinds, distinguished by the `typ` claim so that one can never stand in for
another: `access` (short-lived, sent as a Bearer header), `refresh` (long-lived,
only accepted by the refresh endpoint) and `stream` (about a minute, bound to
one task, for EventSource and WebSocket URLs, which cannot carry headers).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from jose import JWTError, jwt

from common.settings import ServiceSettings

TokenType = Literal["access", "refresh", "stream"]


class InvalidTokenError(Exception):
    """Raised for a token that is malformed, expired, forged or of the wrong kind."""


def issue_token(settings: ServiceSettings, user_id: uuid.UUID, token_type: TokenType,
                *, task_id: uuid.UUID | None = None) -> tuple[str, int]:
    """Return a signed token and its lifetime in seconds."""
    lifetime = {
        "access": timedelta(minutes=settings.jwt_access_token_minutes),
        "refresh": timedelta(days=settings.jwt_refresh_token_days),
        "stream": timedelta(seconds=settings.jwt_stream_token_seconds),
    }[token_type]
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "typ": token_type, "iat": now, "exp": now + lifetime, "jti": uuid.uuid4().hex}
    if task_id is not None:
        claims["task"] = str(task_id)
    token = jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)
    return token, int(lifetime.total_seconds())


def verify_token(settings: ServiceSettings, token: str, expected_type: TokenType) -> dict:
    """Return the claims of a valid token of `expected_type`; raise InvalidTokenError otherwise."""
    try:
        claims = jwt.decode(token, settings.jwt_secret, algorithms=[settings.jwt_algorithm])
    except JWTError as error:
        raise InvalidTokenError(f"invalid token: {error}") from error
    if claims.get("typ") != expected_type:
        raise InvalidTokenError(f"expected a {expected_type} token, got {claims.get('typ')!r}")
    try:
        claims["user_id"] = uuid.UUID(claims["sub"])
    except (KeyError, ValueError) as error:
        raise InvalidTokenError("token has no valid subject") from error
    return claims
