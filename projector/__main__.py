"""Run the projector: `python -m projector`."""

import asyncio

from common.log import configure_logging
from projector.service import run
from projector.settings import ProjectorSettings


def main() -> None:
    settings = ProjectorSettings()
    configure_logging(settings.instance_id, settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
