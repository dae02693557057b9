"""Test helpers: a fake BlueZ (``org.bluez``) on a private D-Bus daemon, and virtual sensors.

bleak's real Linux backend talks to it exactly as to bluetoothd, so the whole transport — scan,
connect, service discovery, config reads, start writes, notifications, unexpected disconnects and
reconnects — runs in tests without a radio. See :mod:`.bluez` (the service), :mod:`.sensors`
(virtual sensors with injectable faults), :mod:`.harness` (runs the fake in a thread) and
:mod:`.fixtures` (``bluez_bus``, ``fake_bluez``).
"""

from .bluez import ADAPTER_PATH, CharSpec, FakeBluez, Link, Peripheral, ServiceSpec
from .daemon import DbusDaemon, dbus_daemon_available, start_dbus_daemon
from .harness import FakeBluezThread
from .sensors import Faults, VirtualSensor, leg_motion

__all__ = [
    "ADAPTER_PATH",
    "CharSpec",
    "DbusDaemon",
    "FakeBluez",
    "FakeBluezThread",
    "Faults",
    "Link",
    "Peripheral",
    "ServiceSpec",
    "VirtualSensor",
    "dbus_daemon_available",
    "leg_motion",
    "start_dbus_daemon",
]
