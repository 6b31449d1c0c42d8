"""Registration and login: Argon2id hashes, password rules, throttling of failed logins.

Throttling is per account and lives in PostgreSQL, so both command API
instances behind nginx see the same count: after `login_max_failures` failures
in a row the account is locked for `login_lockout_s`, doubling per further
failure up to `login_lockout_max_s`. A success resets the count.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from command_api.errors import EmailTakenError, InvalidCredentialsError, LoginThrottledError, WeakPasswordError
from command_api.settings import CommandApiSettings
from schemas.tables import users

log = logging.getLogger(__name__)

HASHER = PasswordHasher()
# Verified against when the e-mail is unknown, so both cases take the same time.
_DUMMY_HASH = HASHER.hash("dummy password for timing only")
COMMON_PASSWORDS = frozenset({
    "password", "password1", "password123", "passw0rd", "123456789", "1234567890", "qwertyuiop",
    "iloveyou", "letmein123", "welcome123", "administrator", "abc1234567", "qwerty1234", "11111111111",
})


@dataclass(frozen=True)
class User:
    user_id: uuid.UUID
    email: str


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str, email: str, min_length: int) -> None:
    """Raise WeakPasswordError naming the rule the password breaks."""
    if len(password) < min_length:
        raise WeakPasswordError(
            f"password has {len(password)} characters; use at least {min_length}, for example a few unrelated words")
    if len(password) > 1024:
        raise WeakPasswordError("password is longer than 1024 characters; use a shorter one")
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        raise WeakPasswordError("password is too common or repetitive; choose one that is hard to guess")
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in password.lower():
        raise WeakPasswordError("password contains the e-mail address; choose one unrelated to it")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"[^A-Za-z]", password)):
        raise WeakPasswordError("password needs at least one letter and one digit or symbol")


async def register_user(engine: AsyncEngine, settings: CommandApiSettings, email: str, password: str) -> User:
    """Create a user; raise EmailTakenError or WeakPasswordError."""
    email = normalize_email(email)
    check_password_strength(password, email, settings.password_min_length)
    user_id = uuid.uuid4()
    password_hash = await asyncio.to_thread(HASHER.hash, password)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(users).values(user_id=user_id, email=email, password_hash=password_hash))
    except IntegrityError as error:
        raise EmailTakenError(f"e-mail {email!r} is already registered; log in or use another address") from error
    log.info("registered user", extra={"user_id": str(user_id)})
    return User(user_id, email)


async def authenticate(engine: AsyncEngine, settings: CommandApiSettings, email: str, password: str) -> User:
    """Return the user for valid credentials; raise InvalidCredentialsError or LoginThrottledError."""
    email = normalize_email(email)
    async with engine.connect() as connection:
        row = (await connection.execute(select(users).where(users.c.email == email))).mappings().first()
    if row is None:
        await asyncio.to_thread(_verify, _DUMMY_HASH, password)
        raise InvalidCredentialsError("e-mail or password is wrong; check both or register first")

    now = datetime.now(UTC)
    if row["locked_until"] is not None and row["locked_until"] > now:
        raise _throttled(row["locked_until"] - now)
    if not await asyncio.to_thread(_verify, row["password_hash"], password):
        await _record_failure(engine, settings, row["user_id"], row["failed_logins"] + 1)
        raise InvalidCredentialsError("e-mail or password is wrong; check both or register first")

    async with engine.begin() as connection:
        values = {"failed_logins": 0, "locked_until": None}
        if HASHER.check_needs_rehash(row["password_hash"]):
            values["password_hash"] = HASHER.hash(password)
        await connection.execute(update(users).where(users.c.user_id == row["user_id"]).values(**values))
    return User(row["user_id"], row["email"])


async def load_user(engine: AsyncEngine, user_id: uuid.UUID) -> User | None:
    async with engine.connect() as connection:
        row = (await connection.execute(select(users.c.user_id, users.c.email).where(users.c.user_id == user_id))).first()
    return User(row.user_id, row.email) if row else None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except VerifyMismatchError:
        return False
    except (VerificationError, InvalidHashError):
        log.exception("stored password hash cannot be verified")
        return False


async def _record_failure(engine: AsyncEngine, settings: CommandApiSettings, user_id: uuid.UUID, failures: int) -> None:
    values: dict = {"failed_logins": users.c.failed_logins + 1}
    excess = failures - settings.login_max_failures
    if excess >= 0:
        lockout = min(settings.login_lockout_s * 2 ** excess, settings.login_lockout_max_s)
        values["locked_until"] = func.now() + timedelta(seconds=lockout)
        log.warning("login locked for %.0f s after %d failed logins", lockout, failures,
                    extra={"user_id": str(user_id)})
    async with engine.begin() as connection:
        await connection.execute(update(users).where(users.c.user_id == user_id).values(**values))


def _throttled(remaining: timedelta) -> LoginThrottledError:
    seconds = max(1, int(remaining.total_seconds() + 0.999))
    return LoginThrottledError(
        f"too many failed logins for this account; try again in {seconds} s with the correct password",
        headers={"Retry-After": str(seconds)}, extra={"retry_after_s": seconds})
