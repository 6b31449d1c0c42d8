"""Registration, login (OAuth2 password flow) and token refresh."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from command_api import users
from command_api.errors import InvalidCredentialsError
from command_api.models import RefreshRequest, TokenPair, UserCreate, UserPublic, error_responses
from common.auth import InvalidTokenError, issue_token, verify_token

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/register", status_code=201, response_model=UserPublic, responses=error_responses(409, 422))
async def register(request: Request, body: UserCreate) -> UserPublic:
    """Create an account. 409 when the e-mail is taken, 422 when the password is weak."""
    user = await users.register_user(request.app.state.engine, request.app.state.settings, body.email, body.password)
    return UserPublic(user_id=user.user_id, email=user.email)


@router.post("/token", response_model=TokenPair, responses=error_responses(401, 422, 429))
async def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenPair:
    """Exchange e-mail (`username`) and password for an access and a refresh token; 429 after repeated failures."""
    user = await users.authenticate(request.app.state.engine, request.app.state.settings, form.username,
                                    form.password)
    return _token_pair(request, user.user_id)


@router.post("/refresh", response_model=TokenPair, responses=error_responses(401, 422))
async def refresh(request: Request, body: RefreshRequest) -> TokenPair:
    """Exchange a valid refresh token for a new access and refresh token."""
    settings = request.app.state.settings
    try:
        claims = verify_token(settings, body.refresh_token, "refresh")
    except InvalidTokenError as error:
        raise InvalidCredentialsError(f"refresh token rejected ({error}); log in again with your password") from error
    if await users.load_user(request.app.state.engine, claims["user_id"]) is None:
        raise InvalidCredentialsError("the account of this refresh token no longer exists; register again")
    return _token_pair(request, claims["user_id"])


def _token_pair(request: Request, user_id) -> TokenPair:
    settings = request.app.state.settings
    access, lifetime = issue_token(settings, user_id, "access")
    refresh_token, _ = issue_token(settings, user_id, "refresh")
    return TokenPair(access_token=access, expires_in=lifetime, refresh_token=refresh_token)
