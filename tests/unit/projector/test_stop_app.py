"""Stopping the faust app within a bounded time, even when its stop ignores cancellation."""

from __future__ import annotations

import asyncio

from projector.service import _stop_app


class StubbornApp:
    """An app whose stop keeps waiting through cancellation, like faust's consumer waiting for a message."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def stop(self) -> None:
        while not self.release.is_set():
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                continue


class QuickApp:
    async def stop(self) -> None:
        await asyncio.sleep(0)


class FailingApp:
    async def stop(self) -> None:
        raise RuntimeError("consumer already closed")


async def test_stubborn_stop_times_out():
    app = StubbornApp()

    stopped = await _stop_app(app, timeout_s=0.2)  # a hang here ends in pytest-timeout's failure

    assert stopped is False
    app.release.set()


async def test_quick_stop_returns_true():
    assert await _stop_app(QuickApp(), timeout_s=5) is True


async def test_failed_stop_counts_as_stopped():
    assert await _stop_app(FailingApp(), timeout_s=5) is True
