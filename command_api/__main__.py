"""Run one command API instance: `python -m command_api`."""

import uvicorn

from command_api.app import create_app
from command_api.settings import CommandApiSettings
from common.log import configure_logging


def main() -> None:
    settings = CommandApiSettings()
    configure_logging(settings.instance_id, settings.log_level)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None,
                proxy_headers=True, timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main()
