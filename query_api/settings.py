"""Settings of the query API (read side and live progress)."""

from common.settings import ServiceSettings


class QueryApiSettings(ServiceSettings):
    host: str = "127.0.0.1"
    port: int = 8201
