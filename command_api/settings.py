"""Settings of the command API (write side)."""

from pydantic import Field

from common.settings import ServiceSettings


class CommandApiSettings(ServiceSettings):
    host: str = "127.0.0.1"
    port: int = 8101
    run_migrations: bool = Field(False, description="Exactly one instance sets this; the others wait for the schema.")
    max_upload_mb: int = Field(64, ge=1, description="Largest accepted request body; nginx uses the same limit.")
    query_api_public_url: str = Field("/query", description="Prefix of task URLs returned to clients.")
