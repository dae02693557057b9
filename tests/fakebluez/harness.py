"""Run a :class:`FakeBluez` on its own event loop in a background thread.

The code under test then owns the main thread and its own ``asyncio.run`` (as ``imu scan`` and
``imu record`` do), and talks to the fake only over D-Bus, as it would to bluetoothd.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from .bluez import FakeBluez, Peripheral

__all__ = ["FakeBluezThread"]

T = TypeVar("T")


class FakeBluezThread:
    """``with FakeBluezThread(address, sensors) as fake:`` — the fake answers inside the block."""

    def __init__(self, bus_address: str, peripherals: Sequence[Peripheral] = ()) -> None:
        self.fake = FakeBluez(bus_address)
        self.peripherals = list(peripherals)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="fakebluez", daemon=True)
        self._started = False

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def start(self) -> FakeBluezThread:
        self._thread.start()
        self._started = True
        self.run(self.fake.start(self.peripherals))
        return self

    def run(self, coro: Any, timeout_s: float = 10.0) -> Any:
        """Run a coroutine on the fake's loop and wait for its result."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout_s)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn(*args)`` on the fake's loop (to read or poke state safely)."""

        async def wrapper() -> T:
            return fn(*args)

        result: T = self.run(wrapper())
        return result

    def stop(self) -> None:
        if not self._started:
            self._loop.close()
            return
        self._started = False
        try:
            self.run(self.fake.stop())
        finally:
            self.run(self._drain())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()

    async def _drain(self) -> None:
        """Cancel whatever is left (pending method handlers) so the loop closes cleanly."""
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._loop.shutdown_asyncgens()

    def __enter__(self) -> FakeBluezThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
