"""Run one query API instance: `python -m query_api`."""

import uvicorn

from common.log import configure_logging
from common.service import change_niceness
from query_api.app import create_app
from query_api.settings import QueryApiSettings


def main() -> None:
    settings = QueryApiSettings()
    configure_logging(settings.instance_id, settings.log_level)
    change_niceness(settings.query_api_nice, "QUERY_API_NICE")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None,
                proxy_headers=True, timeout_graceful_shutdown=5)


if __name__ == "__main__":
    main()
