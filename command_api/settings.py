"""Settings of the command API (write side)."""

from pydantic import Field

from common.settings import ServiceSettings


class CommandApiSettings(ServiceSettings):
    host: str = "127.0.0.1"
    port: int = 8101
    run_migrations: bool = Field(False, description="Exactly one instance sets this; the others wait for the schema.")
    max_upload_mb: int = Field(64, ge=1, description="Largest accepted request body; nginx uses the same limit.")
    query_api_public_url: str = Field("/query", description="Prefix of task URLs returned to clients.")

    inline_max_bytes: int = Field(
        64 * 1024, ge=0, description="Inputs whose JSON form is larger go to the blob store; bytes.")
    kafka_request_timeout_ms: int = Field(
        5000, ge=500, description="How long a submit waits for the broker before it returns 503; milliseconds.")
    password_min_length: int = Field(10, ge=8)
    login_max_failures: int = Field(5, ge=1, description="Failed logins in a row before an account is locked.")
    login_lockout_s: float = Field(30.0, gt=0, description="First lockout; doubles with each further failure.")
    login_lockout_max_s: float = Field(900.0, gt=0)
    idempotency_stale_s: float = Field(
        30.0, gt=0, description="A reserved Idempotency-Key with no response after this long is taken over.")
    max_rows: int = Field(5_000_000, ge=1, description="Largest number of rows (and unknowns) of A.")
    max_nnz: int = Field(20_000_000, ge=1, description="Most stored entries of a sparse A.")
    max_dense_bytes: int = Field(20_000 * 20_000 * 8, ge=1, description="Largest dense A in bytes (float64).")
