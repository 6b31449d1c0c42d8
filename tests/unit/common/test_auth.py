"""JWT helpers: token kinds cannot stand in for each other; forged and expired tokens fail."""

import uuid

import pytest
from jose import jwt

from common.auth import InvalidTokenError, issue_token, verify_token
from common.settings import ServiceSettings

SETTINGS = ServiceSettings(jwt_secret="s" * 40)


def test_access_token_roundtrip():
    user_id = uuid.uuid4()
    token, lifetime = issue_token(SETTINGS, user_id, "access")

    claims = verify_token(SETTINGS, token, "access")

    assert claims["user_id"] == user_id
    assert lifetime == SETTINGS.jwt_access_token_minutes * 60


@pytest.mark.parametrize(("issued", "expected"), [("refresh", "access"), ("access", "refresh"),
                                                   ("stream", "access"), ("access", "stream")])
def test_token_kind_mismatch_rejected(issued, expected):
    token, _ = issue_token(SETTINGS, uuid.uuid4(), issued)

    with pytest.raises(InvalidTokenError, match=f"expected a {expected} token"):
        verify_token(SETTINGS, token, expected)


def test_stream_token_bound_to_task():
    task_id = uuid.uuid4()
    token, lifetime = issue_token(SETTINGS, uuid.uuid4(), "stream", task_id=task_id)

    claims = verify_token(SETTINGS, token, "stream")

    assert claims["task"] == str(task_id)
    assert lifetime == SETTINGS.jwt_stream_token_seconds


def test_token_signed_with_other_secret_rejected():
    token, _ = issue_token(ServiceSettings(jwt_secret="o" * 40), uuid.uuid4(), "access")

    with pytest.raises(InvalidTokenError, match="invalid token"):
        verify_token(SETTINGS, token, "access")


def test_expired_token_rejected():
    claims = {"sub": str(uuid.uuid4()), "typ": "access", "exp": 1_000_000}
    token = jwt.encode(claims, SETTINGS.jwt_secret, algorithm="HS256")

    with pytest.raises(InvalidTokenError, match="expired"):
        verify_token(SETTINGS, token, "access")


def test_token_without_valid_subject_rejected():
    token = jwt.encode({"sub": "not-a-uuid", "typ": "access"}, SETTINGS.jwt_secret, algorithm="HS256")

    with pytest.raises(InvalidTokenError, match="subject"):
        verify_token(SETTINGS, token, "access")
