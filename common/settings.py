"""Settings shared by every service, read once from environment variables.

Each service subclasses `ServiceSettings` in its own `settings.py`; nothing else
reads `os.environ`. Every field is listed with its default in `.env.example`.
Values come from the environment first, then from the checkout's `.env` (so
that `python -m projector verify` run by hand talks to the same stack as
`bin/stack`), then from the defaults here.
"""

from __future__ import annotations

import socket
from pathlib import Path
from functools import cached_property
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EXAMPLE_JWT_SECRET = "change-me-development-only-secret"
REPO_ROOT = Path(__file__).resolve().parent.parent


class ServiceSettings(BaseSettings):
    """Settings every service reads: identity, logging, broker, topics, database, auth."""

    model_config = SettingsConfigDict(env_file=REPO_ROOT / ".env", extra="ignore", frozen=True)

    environment: Literal["development", "production"] = "development"
    instance_id: str = Field(default_factory=socket.gethostname,
                             description="Name of this process in logs and the X-Instance header.")
    log_level: str = "INFO"

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    topic_task_events: str = "task-events"
    topic_task_progress: str = "task-progress"
    topic_dead_letter: str = "task-events-dlq"
    topic_task_events_partitions: int = Field(6, ge=1)
    topic_task_progress_partitions: int = Field(6, ge=1)
    topic_task_progress_retention_hours: float = Field(6.0, gt=0)

    database_url: str = "postgresql+asyncpg://sct:sct@127.0.0.1:15432/sct"
    database_pool_size: int = Field(10, ge=1)

    jwt_secret: str = EXAMPLE_JWT_SECRET
    jwt_algorithm: Literal["HS256"] = "HS256"
    jwt_access_token_minutes: int = Field(15, ge=1)
    jwt_refresh_token_days: int = Field(7, ge=1)
    jwt_stream_token_seconds: int = Field(60, ge=5)

    blob_dir: str = ".stack/blobs"

    @model_validator(mode="after")
    def _reject_example_secret_in_production(self) -> "ServiceSettings":
        if self.environment == "production" and self.jwt_secret == EXAMPLE_JWT_SECRET:
            raise ValueError(
                "JWT_SECRET is the example value from .env.example; set a random secret of "
                "at least 32 bytes (for example `openssl rand -hex 32`) before starting in production"
            )
        if self.environment == "production" and len(self.jwt_secret) < 32:
            raise ValueError("JWT_SECRET is shorter than 32 characters; use `openssl rand -hex 32`")
        return self

    @cached_property
    def bootstrap_servers(self) -> list[str]:
        return [server.strip() for server in self.kafka_bootstrap_servers.split(",") if server.strip()]

    @property
    def service_name(self) -> str:
        return type(self).__module__.split(".")[0]
