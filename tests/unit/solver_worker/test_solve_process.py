"""SolveProcess: a killed child is reported as died instead of leaving the parent polling a closed pipe."""

from __future__ import annotations

import asyncio

from solver_worker.runner import SolveProcess


async def test_killed_solve_process_reports_died():
    process = SolveProcess(blas_threads=1)
    try:
        process.kill()
        messages = [message async for message in process.messages()]
    finally:
        await asyncio.wait_for(process.close(busy=True), 10)

    assert messages == [("died", -9)]


async def test_idle_solve_process_exits_on_close():
    process = SolveProcess(blas_threads=1)

    await asyncio.wait_for(process.close(), 15)

    assert process._process.exitcode is not None  # noqa: SLF001 - the test checks the reaped child
