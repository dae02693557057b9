"""pytest fixtures: a private ``dbus-daemon`` per test and a fake BlueZ on it.

``bluez_bus`` starts the daemon and points ``DBUS_SYSTEM_BUS_ADDRESS`` at it (bleak talks to the
system bus); ``fake_bluez(*sensors)`` starts a fake ``org.bluez`` with those peripherals in a
background thread. Both are stopped after the test, so no fake outlives it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .bluez import Peripheral
from .daemon import DbusDaemon, dbus_daemon_available, start_dbus_daemon
from .harness import FakeBluezThread

__all__ = ["bluez_bus", "fake_bluez"]


@pytest.fixture
def bluez_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[DbusDaemon]:
    if not dbus_daemon_available():
        pytest.skip("dbus-daemon is not installed (apt-get install dbus); BLE tests need it")
    # a short path: unix socket paths are limited to ~107 bytes
    directory = Path(tempfile.mkdtemp(prefix="fakebluez-"))
    daemon = start_dbus_daemon(directory)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", daemon.address)
    try:
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def fake_bluez(bluez_bus: DbusDaemon) -> Iterator[Callable[..., FakeBluezThread]]:
    running: list[FakeBluezThread] = []

    def start(*peripherals: Peripheral) -> FakeBluezThread:
        fake = FakeBluezThread(bluez_bus.address, peripherals).start()
        running.append(fake)
        return fake

    try:
        yield start
    finally:
        for fake in running:
            fake.stop()
