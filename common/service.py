"""Lifecycle of a long-running service without an HTTP API: signals, health server, main loop.

`run_service` starts the health server, runs the service's main coroutine until
it returns or SIGTERM/SIGINT arrives, then cancels it and stops cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable

from common.health import HealthServer

log = logging.getLogger(__name__)


def change_niceness(increment: int, setting: str) -> None:
    """Add `increment` to this process's niceness; a negative one needs root or CAP_SYS_NICE."""
    if not increment:
        return
    try:
        niceness = os.nice(increment)
    except PermissionError as error:
        log.warning("could not change the niceness by %d (%s); set %s=0 to run at normal priority without "
                    "this warning", increment, error, setting)
        return
    log.info("running at niceness %d", niceness)


async def run_service(
    name: str,
    instance_id: str,
    health_host: str,
    health_port: int,
    main: Callable[[asyncio.Event], Awaitable[None]],
    health: Callable[[], Awaitable[dict]],
) -> None:
    """Run `main(stop_event)` with a health server beside it until a stop signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    server = HealthServer(health_host, health_port, instance_id, health)
    await server.start()
    log.info("%s started", name)
    body = asyncio.create_task(main(stop), name=f"{name}-main")
    stopper = asyncio.create_task(stop.wait(), name=f"{name}-stop")
    try:
        done, _ = await asyncio.wait({body, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if body in done:
            body.result()  # a crash of the main loop is a bug: raise it
        else:
            log.info("%s stopping on signal", name)
            await asyncio.wait_for(body, timeout=25)
    finally:
        for task in (body, stopper):
            task.cancel()
        await asyncio.gather(body, stopper, return_exceptions=True)
        await server.stop()
        log.info("%s stopped", name)
