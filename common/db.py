"""Database engine, Alembic migrations at start, and waiting for the schema.

Exactly one process runs migrations (`RUN_MIGRATIONS=true`); it holds a
PostgreSQL advisory lock while doing so, so even a misconfigured second runner
cannot race it. Every other process polls `alembic_version` until it matches
the newest revision shipped with the code.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from common.settings import ServiceSettings

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_INI = REPO_ROOT / "alembic.ini"
# Arbitrary constant shared by every migration runner: the key of the advisory lock.
MIGRATION_LOCK_KEY = 7_274_001


def create_engine(settings: ServiceSettings, **overrides) -> AsyncEngine:
    options = {"pool_size": settings.database_pool_size, "pool_pre_ping": True}
    options.update(overrides)
    return create_async_engine(settings.database_url, **options)


def alembic_config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(REPO_ROOT / "schemas" / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["skip_logging_config"] = True
    return config


def head_revision() -> str:
    """Return the newest migration revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    """Return the revision the database is at, or None before the first migration."""
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return result.scalar_one_or_none()
    except ProgrammingError:
        return None


async def run_migrations(engine: AsyncEngine, database_url: str) -> None:
    """Upgrade the schema to head under an advisory lock."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        try:
            log.info("running migrations to %s", head_revision())
            await asyncio.to_thread(command.upgrade, alembic_config(database_url), "head")
            log.info("migrations applied")
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})


async def wait_for_schema(engine: AsyncEngine, *, poll_s: float = 1.0, timeout_s: float | None = None) -> None:
    """Block until the database schema is at the head revision.

    Raises TimeoutError when `timeout_s` passes first.
    """
    head = head_revision()
    loop = asyncio.get_running_loop()
    deadline = None if timeout_s is None else loop.time() + timeout_s
    logged = False
    while True:
        try:
            revision = await current_revision(engine)
        except (OperationalError, DBAPIError, OSError) as error:
            revision = None
            log.warning("database not reachable yet: %s", error)
        if revision == head:
            log.info("database schema is current (%s)", head)
            return
        if not logged:
            log.info("waiting for migrations: database at %s, code expects %s", revision, head)
            logged = True
        if deadline is not None and loop.time() > deadline:
            raise TimeoutError(f"database schema stayed at {revision}, expected {head}")
        await asyncio.sleep(poll_s)


async def prepare_schema(engine: AsyncEngine, settings: ServiceSettings, run: bool) -> str:
    """Run or wait for migrations; return "applied" or "waited" for the health report."""
    if run:
        await _retry_until_reachable(engine)
        await run_migrations(engine, settings.database_url)
        return "applied"
    await wait_for_schema(engine)
    return "waited"


async def _retry_until_reachable(engine: AsyncEngine, attempts: int = 60) -> None:
    for attempt in range(1, attempts + 1):
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return
        except (OperationalError, DBAPIError, OSError) as error:
            if attempt == attempts:
                raise
            log.warning("database not reachable (attempt %d of %d): %s", attempt, attempts, error)
            await asyncio.sleep(1.0)
