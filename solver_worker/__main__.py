"""Run one solver worker process: `python -m solver_worker`."""

import asyncio

from common.log import configure_logging
from common.service import change_niceness
from solver_worker.service import run
from solver_worker.settings import SolverWorkerSettings


def main() -> None:
    settings = SolverWorkerSettings()
    configure_logging(settings.instance_id, settings.log_level)
    change_niceness(settings.worker_nice, "WORKER_NICE")
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
