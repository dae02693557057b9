"""Shared pytest fixtures.

BLE: ``bluez_bus`` (a private dbus-daemon, ``DBUS_SYSTEM_BUS_ADDRESS`` pointed at it) and
``fake_bluez`` (a fake org.bluez with virtual sensors) — see ``tests/fakebluez``.
"""

from fakebluez.fixtures import bluez_bus, fake_bluez

__all__ = ["bluez_bus", "fake_bluez"]
