"""Run one solver worker process: `python -m solver_worker`."""

import asyncio

from common.log import configure_logging
from solver_worker.service import run
from solver_worker.settings import SolverWorkerSettings


def main() -> None:
    settings = SolverWorkerSettings()
    configure_logging(settings.instance_id, settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
